package io.moonwalk.unwinder.lpm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import io.moonwalk.bpf.layout.RecordLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits an address range into the prefixes of an LPM trie keyed by {@code (u32 pid, u64 address)}, pid bits
 * first. Each prefix is a block of {@code 2^k} addresses aligned to {@code 2^k}; its prefix length counts the
 * 32 pid bits plus the {@code 64 - k} fixed address bits. The split is greedy from the low end (the largest
 * aligned block that starts at the cursor and fits), which yields the minimal cover: at most
 * {@link #MAX_PREFIXES} prefixes for any range.
 */
public final class LpmPrefixes {
    /** Bits of the pid that precede the address in the key. */
    public static final int PID_BITS = (int) RecordLayout.PID_KEY.select(groupElement("pid_be")).byteSize() * Byte.SIZE;
    /** Upper bound on prefixes for one range: at most one block per bit size on the way up and on the way down. */
    public static final int MAX_PREFIXES = 2 * Long.SIZE;
    /** Key size of {@code struct mw_pid_key}: u32 prefixlen, u32 pid, u64 address. */
    public static final int KEY_BYTES = (int) RecordLayout.PID_KEY.byteSize();

    /** One trie key: all of {@code [address, address + 2^(96 - prefixLength))} for the pid. */
    public record Prefix(int prefixLength, long address) {
        /** Number of addresses covered; 0 stands for 2^64. */
        public long blockSize() {
            int k = PID_BITS + Long.SIZE - prefixLength;
            return k == Long.SIZE ? 0 : 1L << k;
        }
    }

    private LpmPrefixes() {
    }

    /**
     * Writes the prefixes covering {@code [start, end)} (unsigned, {@code start < end}) into the caller's arrays,
     * in ascending address order, and returns how many. Allocates nothing.
     *
     * @param prefixLengths at least {@link #MAX_PREFIXES} long (prefix length including the pid bits)
     * @param addresses at least {@link #MAX_PREFIXES} long
     */
    public static int split(long start, long end, int[] prefixLengths, long[] addresses) {
        if (Long.compareUnsigned(start, end) >= 0) {
            throw new IllegalArgumentException("empty or inverted range [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(end) + ")");
        }
        if (prefixLengths.length < MAX_PREFIXES || addresses.length < MAX_PREFIXES) {
            throw new IllegalArgumentException("output arrays must hold " + MAX_PREFIXES + " prefixes");
        }
        int n = 0;
        long cursor = start;
        while (Long.compareUnsigned(cursor, end) < 0) {
            long remaining = end - cursor;
            // Largest block allowed by the cursor's alignment and by what is left; cursor 0 is aligned to 2^64.
            int alignBits = Long.numberOfTrailingZeros(cursor);
            int sizeBits = 63 - Long.numberOfLeadingZeros(remaining);
            int k = Math.min(alignBits, sizeBits);
            prefixLengths[n] = PID_BITS + Long.SIZE - k;
            addresses[n] = cursor;
            n++;
            cursor += 1L << k;
            if (cursor == 0) {
                break; // wrapped: the range reached the top of the address space
            }
        }
        return n;
    }

    /** Convenience form of {@link #split(long, long, int[], long[])}. */
    public static List<Prefix> split(long start, long end) {
        int[] lens = new int[MAX_PREFIXES];
        long[] addrs = new long[MAX_PREFIXES];
        int n = split(start, end, lens, addrs);
        List<Prefix> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Prefix(lens[i], addrs[i]));
        }
        return out;
    }

    /**
     * The key bytes of {@code struct mw_pid_key}: prefix length in host (little-endian) order as the kernel's
     * {@code bpf_lpm_trie_key} wants, then pid and address big-endian so that the trie compares them from the
     * most significant bit.
     *
     * @param out at least {@link #KEY_BYTES} bytes, written at {@code offset}
     */
    public static void encodeKey(int pid, int prefixLength, long address, byte[] out, int offset) {
        MemorySegment k = MemorySegment.ofArray(out);
        RecordLayout.PID_KEY_PREFIXLEN.set(k, (long) offset, prefixLength);
        RecordLayout.PID_KEY_PID.set(k, (long) offset, pid);
        RecordLayout.PID_KEY_ADDRESS.set(k, (long) offset, address);
    }
}
