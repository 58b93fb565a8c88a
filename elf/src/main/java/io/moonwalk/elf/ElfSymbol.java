package io.moonwalk.elf;

/**
 * A symbol that names code: STT_FUNC, STT_GNU_IFUNC, or STT_NOTYPE in an executable section.
 *
 * @param sectionIndex st_shndx (a section index, or a reserved value such as SHN_ABS)
 * @param dynamic      true when it came from {@code .dynsym}, false for {@code .symtab}
 */
public record ElfSymbol(String name, long value, long size, int type, int bind, int sectionIndex, boolean dynamic) {
    public static final int STT_NOTYPE = 0;
    public static final int STT_FUNC = 2;
    public static final int STT_GNU_IFUNC = 10;

    public static final int STB_LOCAL = 0;
    public static final int STB_GLOBAL = 1;
    public static final int STB_WEAK = 2;
}
