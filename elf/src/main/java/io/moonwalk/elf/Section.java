package io.moonwalk.elf;

import java.nio.ByteBuffer;

/** One section header of an {@link ElfFile}, with access to its bytes. */
public final class Section {
    public static final int SHT_NULL = 0;
    public static final int SHT_PROGBITS = 1;
    public static final int SHT_SYMTAB = 2;
    public static final int SHT_STRTAB = 3;
    public static final int SHT_NOTE = 7;
    public static final int SHT_NOBITS = 8;
    public static final int SHT_DYNSYM = 11;

    public static final long SHF_ALLOC = 0x2;
    public static final long SHF_EXECINSTR = 0x4;

    private final ElfFile file;
    private final int index;
    private final String name;
    private final int type;
    private final long flags;
    private final long addr;
    private final long offset;
    private final long size;
    private final int link;
    private final int info;
    private final long addralign;
    private final long entsize;

    Section(ElfFile file, int index, String name, int type, long flags, long addr, long offset, long size,
            int link, int info, long addralign, long entsize) {
        this.file = file;
        this.index = index;
        this.name = name;
        this.type = type;
        this.flags = flags;
        this.addr = addr;
        this.offset = offset;
        this.size = size;
        this.link = link;
        this.info = info;
        this.addralign = addralign;
        this.entsize = entsize;
    }

    public int index() { return index; }
    public String name() { return name; }
    public int type() { return type; }
    public long flags() { return flags; }
    public long addr() { return addr; }
    public long offset() { return offset; }
    public long size() { return size; }
    public int link() { return link; }
    public int info() { return info; }
    public long addralign() { return addralign; }
    public long entsize() { return entsize; }

    public boolean isExecutable() {
        return (flags & SHF_EXECINSTR) != 0;
    }

    public boolean hasFileData() {
        return type != SHT_NOBITS && type != SHT_NULL;
    }

    /** Whether a virtual address lies inside this section when loaded. */
    public boolean containsAddress(long vaddr) {
        return (flags & SHF_ALLOC) != 0 && Long.compareUnsigned(vaddr - addr, size) < 0
                && Long.compareUnsigned(vaddr, addr) >= 0;
    }

    /**
     * The section's bytes as a read-only little-endian buffer positioned at 0. SHT_NOBITS sections
     * yield an empty buffer. For a file opened from disk the buffer is a view of a memory mapping:
     * if the file is truncated by someone else while the buffer is in use, the JVM raises
     * {@link InternalError} on access.
     *
     * @throws ElfFormatException if the section's range lies outside the file
     */
    public ByteBuffer data() throws ElfFormatException {
        if (!hasFileData()) {
            return ByteBuffer.allocate(0).order(java.nio.ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
        }
        return file.slice(offset, size, "section " + name + " (#" + index + ")");
    }

    @Override
    public String toString() {
        return "Section[" + index + " " + name + " type=" + type + " addr=0x" + Long.toHexString(addr)
                + " off=0x" + Long.toHexString(offset) + " size=0x" + Long.toHexString(size) + "]";
    }
}
