package io.moonwalk.luajit.jit;

/**
 * One mcode area of a VM: an anonymous mapping that starts with the {@code MCLink} header {next, size}
 * and holds trace machine code (allocated top-down).
 */
public record McodeArea(long start, long size) implements Comparable<McodeArea> {
    /** Size of the {@code MCLink} header at the start of every area. */
    public static final int LINK_BYTES = 16;

    public long end() {
        return start + size;
    }

    public boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end()) < 0;
    }

    /** Whether {@code [address, address + length)} lies inside this area (length may be 0). */
    public boolean containsRange(long address, long length) {
        return contains(address) && length >= 0 && Long.compareUnsigned(address + length, end()) <= 0;
    }

    @Override
    public int compareTo(McodeArea o) {
        return Long.compareUnsigned(start, o.start);
    }

    @Override
    public String toString() {
        return "[0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end()) + ")";
    }
}
