package io.moonwalk.elf;

/** One program header. Offsets and sizes are as stored; {@link ElfFile} has checked that they do not overflow. */
public record Segment(int type, int flags, long offset, long vaddr, long paddr, long filesz, long memsz, long align) {
    public static final int PT_LOAD = 1;
    public static final int PT_DYNAMIC = 2;
    public static final int PT_INTERP = 3;
    public static final int PT_NOTE = 4;
    public static final int PT_GNU_EH_FRAME = 0x6474e550;

    public static final int PF_X = 1;
    public static final int PF_W = 2;
    public static final int PF_R = 4;

    public boolean isLoad() {
        return type == PT_LOAD;
    }

    public boolean isExecutable() {
        return (flags & PF_X) != 0;
    }

    /** Whether the file offset lies in the bytes this segment loads from the file. */
    public boolean containsFileOffset(long off) {
        return off >= offset && off - offset < filesz;
    }
}
