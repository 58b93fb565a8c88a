package io.moonwalk.unwinder.cfi;

/**
 * A sorted unwind table for one file: entry i says "from file vaddr {@code base + pcOffset(i)} up to the next
 * entry, apply rule {@code ruleIndex(i)}" (an index into the shared {@link RuleDictionary}). Consecutive entries
 * never repeat a rule; gaps between FDEs and the end of the last FDE are INVALID entries.
 *
 * <p>Kernel layout, {@value #BYTES_PER_ENTRY} bytes per entry as two parallel arrays: {@code u32 pc_offset[n]}
 * (the only array the binary search touches) and {@code u16 rule_index[n]}.
 */
public final class UnwindTable {
    public static final int BYTES_PER_ENTRY = 6;

    private final long base;
    private final int[] pcOffsets;
    private final char[] ruleIndices;
    private final RuleDictionary dictionary;
    private final UnwindTableStats stats;

    UnwindTable(long base, int[] pcOffsets, char[] ruleIndices, RuleDictionary dictionary, UnwindTableStats stats) {
        this.base = base;
        this.pcOffsets = pcOffsets;
        this.ruleIndices = ruleIndices;
        this.dictionary = dictionary;
        this.stats = stats;
    }

    /**
     * The rule at a file virtual address (runtime address minus load bias). Binary search, no allocation.
     * Returns {@link UnwindRule#INVALID} outside every FDE.
     */
    public UnwindRule lookup(long pc) {
        int i = indexOf(pc);
        return i < 0 ? UnwindRule.INVALID : dictionary.get(ruleIndices[i]);
    }

    /** Index of the entry covering {@code pc}, or -1 if none does. */
    public int indexOf(long pc) {
        long off = pc - base;
        if (off < 0 || off > 0xffff_ffffL || pcOffsets.length == 0) {
            return -1;
        }
        int key = (int) off;
        int lo = 0;
        int hi = pcOffsets.length - 1;
        if (Integer.compareUnsigned(pcOffsets[0], key) > 0) {
            return -1;
        }
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (Integer.compareUnsigned(pcOffsets[mid], key) <= 0) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** File vaddr the pc offsets are relative to (the lowest FDE start). */
    public long base() {
        return base;
    }

    public int entryCount() {
        return pcOffsets.length;
    }

    /** Unsigned 32-bit offset from {@link #base()}. */
    public int pcOffset(int entry) {
        return pcOffsets[entry];
    }

    public int ruleIndex(int entry) {
        return ruleIndices[entry];
    }

    public UnwindRule rule(int entry) {
        return dictionary.get(ruleIndices[entry]);
    }

    public RuleDictionary dictionary() {
        return dictionary;
    }

    /** Bytes this table occupies in the kernel (the shared rule array is not included). */
    public long sizeBytes() {
        return (long) pcOffsets.length * BYTES_PER_ENTRY;
    }

    public UnwindTableStats stats() {
        return stats;
    }
}
