package io.moonwalk.elf;

/**
 * The one search every address index uses (process maps, symbol tables, kernel symbols, JIT
 * traces): addresses are unsigned 64-bit values, so the comparison must be unsigned — a kernel or
 * high user address is negative as a Java {@code long}.
 */
public final class UnsignedSearch {
    private UnsignedSearch() {}

    /**
     * Index of the last element of {@code sorted} (ascending, unsigned) that is {@code <= key}
     * (unsigned), or -1 when every element is greater.
     */
    public static int floor(long[] sorted, long key) {
        int lo = 0;
        int hi = sorted.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(sorted[mid], key) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }
}
