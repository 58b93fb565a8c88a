package io.moonwalk.unwinder.cfi;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Hands out contiguous index ranges of the kernel's flat {@code unwind_entries} array {@code [0, capacity)}:
 * first fit over an address-ordered free list, and freed ranges coalesce with free neighbours so the list
 * holds no two adjacent blocks. Allocation is O(free blocks); the free list stays short because files come and
 * go in bulk (a few hundred live tables), not entry by entry. Not thread-safe: the owner serialises calls.
 */
public final class EntryRangeAllocator {
    /** Returned by {@link #allocate} when no free block is large enough. */
    public static final int NO_SPACE = -1;

    private final int capacity;
    private final TreeMap<Integer, Integer> free = new TreeMap<>(); // start -> length
    private final Map<Integer, Integer> allocated = new HashMap<>(); // start -> length
    private long freeEntries;

    public EntryRangeAllocator(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        free.put(0, capacity);
        freeEntries = capacity;
    }

    /** The first index of a new range of {@code count} entries, or {@link #NO_SPACE}. */
    public int allocate(int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("range length must be positive, got " + count);
        }
        Iterator<Map.Entry<Integer, Integer>> it = free.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Integer, Integer> block = it.next();
            int start = block.getKey();
            int length = block.getValue();
            if (length < count) {
                continue;
            }
            it.remove();
            if (length > count) {
                free.put(start + count, length - count);
            }
            allocated.put(start, count);
            freeEntries -= count;
            return start;
        }
        return NO_SPACE;
    }

    /** Returns a range from {@link #allocate}. */
    public void free(int start) {
        Integer length = allocated.remove(start);
        if (length == null) {
            throw new IllegalArgumentException("no range allocated at " + start + " (double free?)");
        }
        int s = start;
        int len = length;
        Map.Entry<Integer, Integer> below = free.floorEntry(s);
        if (below != null && below.getKey() + below.getValue() == s) {
            s = below.getKey();
            len += below.getValue();
            free.remove(below.getKey());
        }
        Integer aboveLength = free.get(start + length);
        if (aboveLength != null) {
            free.remove(start + length);
            len += aboveLength;
        }
        free.put(s, len);
        freeEntries += length;
    }

    public int capacity() {
        return capacity;
    }

    public long freeEntries() {
        return freeEntries;
    }

    public long usedEntries() {
        return capacity - freeEntries;
    }

    public int freeBlocks() {
        return free.size();
    }

    public int allocatedRanges() {
        return allocated.size();
    }

    /** The largest request that would succeed now. */
    public int largestFreeBlock() {
        int max = 0;
        for (int len : free.values()) {
            max = Math.max(max, len);
        }
        return max;
    }

    /** 1 - largest free block / free entries: 0 when all free space is one block, towards 1 when it is shredded. */
    public double fragmentation() {
        return freeEntries == 0 ? 0 : 1.0 - (double) largestFreeBlock() / freeEntries;
    }

    /** The free list as {start, length} pairs in address order (for tests and diagnostics). */
    public int[][] freeList() {
        int[][] out = new int[free.size()][];
        int i = 0;
        for (Map.Entry<Integer, Integer> e : free.entrySet()) {
            out[i++] = new int[] {e.getKey(), e.getValue()};
        }
        return out;
    }
}
