package io.moonwalk.unwinder.lpm;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

@Tag("pure")
class LpmPrefixesTest {

    @Test
    void randomRangesAreCoveredExactlyWithoutOverlap() {
        Random rnd = new Random(42);
        int[] lens = new int[LpmPrefixes.MAX_PREFIXES];
        long[] addrs = new long[LpmPrefixes.MAX_PREFIXES];
        int worst = 0;
        for (int i = 0; i < 200_000; i++) {
            long start;
            long end;
            switch (i % 4) {
                case 0 -> { // user-space mappings: page aligned, below 2^47
                    start = (rnd.nextLong() & ((1L << 47) - 1)) & ~0xfffL;
                    end = start + ((1 + rnd.nextInt(1 << 20)) * 4096L);
                }
                case 1 -> { // arbitrary byte ranges anywhere in the unsigned space
                    long a = rnd.nextLong();
                    long b = rnd.nextLong();
                    start = Long.compareUnsigned(a, b) < 0 ? a : b;
                    end = Long.compareUnsigned(a, b) < 0 ? b : a;
                }
                case 2 -> { // tiny ranges
                    start = rnd.nextLong() >>> 1;
                    end = start + 1 + rnd.nextInt(64);
                }
                default -> { // ranges touching 0 or the top of the address space
                    long len = 1 + (rnd.nextLong() >>> (1 + rnd.nextInt(63)));
                    start = rnd.nextBoolean() ? 0 : -len;
                    end = start + len;
                }
            }
            if (Long.compareUnsigned(start, end) >= 0 && end != 0) {
                continue;
            }
            if (end == 0) {
                end = -1; // [x, 2^64) is not expressible with a u64 end; cover up to 2^64-1
                if (Long.compareUnsigned(start, end) >= 0) {
                    continue;
                }
            }
            int n = LpmPrefixes.split(start, end, lens, addrs);
            worst = Math.max(worst, n);
            assertThat(n).isBetween(1, LpmPrefixes.MAX_PREFIXES);
            long cursor = start;
            for (int k = 0; k < n; k++) {
                int bits = LpmPrefixes.PID_BITS + 64 - lens[k];
                assertThat(lens[k]).isBetween(LpmPrefixes.PID_BITS, LpmPrefixes.PID_BITS + 64);
                assertThat(addrs[k]).as("prefix %d of [%x,%x) starts where the previous ended", k, start, end)
                        .isEqualTo(cursor);
                long mask = bits == 64 ? -1L : (1L << bits) - 1;
                assertThat(addrs[k] & mask).as("aligned to its size").isZero();
                cursor = addrs[k] + (bits == 64 ? 0 : 1L << bits);
            }
            assertThat(cursor).as("union ends exactly at the range end [%x,%x)", start, end).isEqualTo(end);
        }
        System.out.printf("[lpm] 200000 random ranges: worst %d prefixes (bound %d)%n", worst,
                LpmPrefixes.MAX_PREFIXES);
        assertThat(worst).isGreaterThan(64); // the generator reaches the hard cases
    }

    @Test
    void longestPrefixMatchSelectsExactlyTheRangeForThePid() {
        // A simulated trie with two processes and three mappings, looked up like the kernel does.
        Random rnd = new Random(7);
        record Installed(int pid, int len, long addr, int mapping) {
        }
        java.util.List<Installed> trie = new java.util.ArrayList<>();
        long[][] ranges = {{0x5555_5555_4000L, 0x5555_5557_9000L}, {0x7f12_3456_7000L, 0x7f12_3460_0000L},
            {0x7f12_3460_0000L, 0x7f12_3460_1000L}};
        int[] pids = {100, 100, 200};
        for (int m = 0; m < ranges.length; m++) {
            for (LpmPrefixes.Prefix p : LpmPrefixes.split(ranges[m][0], ranges[m][1])) {
                trie.add(new Installed(pids[m], p.prefixLength(), p.address(), m));
            }
        }
        for (int i = 0; i < 100_000; i++) {
            int m = rnd.nextInt(ranges.length);
            long lo = ranges[m][0] - 0x2000;
            long addr = lo + (long) (rnd.nextDouble() * (ranges[m][1] - lo + 0x2000));
            int pid = rnd.nextBoolean() ? 100 : 200;
            int bestLen = -1;
            int found = -1;
            for (Installed e : trie) {
                int addrBits = e.len() - LpmPrefixes.PID_BITS;
                boolean match = e.pid() == pid && (addrBits == 0
                        || (addr >>> (64 - addrBits)) == (e.addr() >>> (64 - addrBits)));
                if (match && e.len() > bestLen) {
                    bestLen = e.len();
                    found = e.mapping();
                }
            }
            int expected = -1;
            for (int k = 0; k < ranges.length; k++) {
                if (pids[k] == pid && addr >= ranges[k][0] && addr < ranges[k][1]) {
                    expected = k;
                }
            }
            assertThat(found).as("pid %d addr %x", pid, addr).isEqualTo(expected);
        }
    }

    @Test
    void edgeCases() {
        assertThat(LpmPrefixes.split(0x1000, 0x2000)).containsExactly(new LpmPrefixes.Prefix(32 + 52, 0x1000));
        assertThat(LpmPrefixes.split(7, 8)).containsExactly(new LpmPrefixes.Prefix(96, 7));
        assertThat(LpmPrefixes.split(0, 1L << 63)).containsExactly(new LpmPrefixes.Prefix(33, 0));
        assertThat(LpmPrefixes.split(1L << 63, -1L)).hasSize(63);
        assertThat(LpmPrefixes.split(1, -1L)).hasSize(2 * 63);
        List<LpmPrefixes.Prefix> p = LpmPrefixes.split(0x7000, 0x13000);
        assertThat(p).containsExactly(new LpmPrefixes.Prefix(84, 0x7000), new LpmPrefixes.Prefix(81, 0x8000),
                new LpmPrefixes.Prefix(83, 0x10000), new LpmPrefixes.Prefix(84, 0x12000));
        assertThat(p.get(1).blockSize()).isEqualTo(0x8000);
        assertThatThrownBy(() -> LpmPrefixes.split(5, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LpmPrefixes.split(-1L, 5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void keyBytesMatchTheKernelStruct() {
        byte[] key = new byte[20];
        LpmPrefixes.encodeKey(0x01020304, 84, 0x1122334455667788L, key, 2);
        assertThat(java.util.HexFormat.of().formatHex(key))
                .isEqualTo("0000" + "54000000" + "01020304" + "1122334455667788" + "0000");
    }
}
