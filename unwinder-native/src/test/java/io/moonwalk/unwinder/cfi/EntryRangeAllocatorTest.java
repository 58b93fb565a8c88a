package io.moonwalk.unwinder.cfi;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

@Tag("pure")
class EntryRangeAllocatorTest {

    @Test
    void firstFitSplitsAndFreedNeighboursCoalesce() {
        EntryRangeAllocator a = new EntryRangeAllocator(100);
        int x = a.allocate(10);
        int y = a.allocate(20);
        int z = a.allocate(30);
        assertThat(new int[] {x, y, z}).containsExactly(0, 10, 30);
        assertThat(java.util.Arrays.deepToString(a.freeList())).isEqualTo("[[60, 40]]");
        a.free(y);
        assertThat(java.util.Arrays.deepToString(a.freeList())).isEqualTo("[[10, 20], [60, 40]]");
        assertThat(a.allocate(15)).as("first fit takes the lower hole").isEqualTo(10);
        assertThat(a.allocate(6)).as("5 left in the hole, so the top block").isEqualTo(60);
        a.free(0);
        assertThat(java.util.Arrays.deepToString(a.freeList())).isEqualTo("[[0, 10], [25, 5], [66, 34]]");
        a.free(10);
        assertThat(java.util.Arrays.deepToString(a.freeList())).as("coalesced with both neighbours").isEqualTo("[[0, 30], [66, 34]]");
        a.free(z);
        a.free(60);
        assertThat(java.util.Arrays.deepToString(a.freeList())).isEqualTo("[[0, 100]]");
        assertThat(a.freeEntries()).isEqualTo(100);
        assertThat(a.fragmentation()).isZero();
    }

    @Test
    void exhaustionAndMisuse() {
        EntryRangeAllocator a = new EntryRangeAllocator(64);
        assertThat(a.allocate(65)).isEqualTo(EntryRangeAllocator.NO_SPACE);
        int r = a.allocate(64);
        assertThat(a.allocate(1)).isEqualTo(EntryRangeAllocator.NO_SPACE);
        a.free(r);
        assertThatThrownBy(() -> a.free(r)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("double");
        assertThatThrownBy(() -> a.free(3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.allocate(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EntryRangeAllocator(0)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Churn with table sizes spread like real files (a few hundred entries for small libraries to tens of
     * thousands for libc-sized ones, log-uniform), at high occupancy: invariants hold after every step and the
     * fragmentation stays measured.
     */
    @Test
    void churnKeepsInvariantsAndMeasuresFragmentation() {
        int capacity = UnwindTableCache.KERNEL_ENTRY_CAPACITY;
        EntryRangeAllocator a = new EntryRangeAllocator(capacity);
        Random rnd = new Random(0x5eed);
        List<int[]> live = new ArrayList<>(); // {start, length}
        long refusedWithEnoughFreeSpace = 0;
        long refused = 0;
        long attempts = 0;
        double worstFragmentation = 0;
        double sumFragmentation = 0;
        int samples = 0;
        for (int step = 0; step < 60_000; step++) {
            // Hover around 85% occupancy: files arrive while there is room, random ones leave otherwise.
            boolean grow = live.isEmpty() || a.usedEntries() < capacity * 0.85 && rnd.nextInt(100) < 70;
            if (grow) {
                int len = (int) Math.round(Math.exp(Math.log(200) + rnd.nextDouble() * (Math.log(60_000) - Math.log(200))));
                attempts++;
                int s = a.allocate(len);
                if (s == EntryRangeAllocator.NO_SPACE) {
                    refused++;
                    if (a.freeEntries() >= len) {
                        refusedWithEnoughFreeSpace++;
                    }
                    // Under pressure files go away as processes exit.
                    for (int k = 0; k < 2 && !live.isEmpty(); k++) {
                        a.free(live.remove(rnd.nextInt(live.size()))[0]);
                    }
                } else {
                    live.add(new int[] {s, len});
                }
            } else {
                int[] gone = live.remove(rnd.nextInt(live.size()));
                a.free(gone[0]);
            }
            if (step % 500 == 0) {
                checkInvariants(a, live, capacity);
                if (a.usedEntries() > capacity * 0.7) {
                    worstFragmentation = Math.max(worstFragmentation, a.fragmentation());
                    sumFragmentation += a.fragmentation();
                    samples++;
                }
            }
        }
        checkInvariants(a, live, capacity);
        assertThat(samples).as("the run reached high occupancy").isPositive();
        double mean = sumFragmentation / samples;
        System.out.printf("[alloc] %d allocations, %d refused (%d of them with enough total free space), "
                + "fragmentation at >70%% occupancy (target 85%%): mean %.3f worst %.3f, free blocks now %d%n", attempts, refused,
                refusedWithEnoughFreeSpace, mean, worstFragmentation, a.freeBlocks());
        // Measured (seed above): about 4% of requests find no block although 15% of the array is free, mean
        // fragmentation ~0.92. The bounds only catch a regression (e.g. lost coalescing sends both towards 1).
        assertThat((double) refusedWithEnoughFreeSpace / attempts).as("refusals caused by fragmentation")
                .isLessThan(0.08);
        assertThat(mean).as("mean fragmentation at high occupancy").isLessThan(0.97);
    }

    private static void checkInvariants(EntryRangeAllocator a, List<int[]> live, int capacity) {
        int[][] free = a.freeList();
        long freeSum = 0;
        for (int i = 0; i < free.length; i++) {
            assertThat(free[i][1]).isPositive();
            freeSum += free[i][1];
            if (i > 0) {
                assertThat(free[i][0]).as("free blocks are disjoint and never adjacent (coalesced)")
                        .isGreaterThan(free[i - 1][0] + free[i - 1][1]);
            }
        }
        long liveSum = 0;
        List<int[]> all = new ArrayList<>(live);
        for (int[] f : free) {
            all.add(f);
        }
        all.sort((x, y) -> Integer.compare(x[0], y[0]));
        long pos = 0;
        for (int[] r : all) {
            assertThat((long) r[0]).as("ranges tile [0, capacity) without overlap").isEqualTo(pos);
            pos += r[1];
        }
        assertThat(pos).isEqualTo(capacity);
        for (int[] l : live) {
            liveSum += l[1];
        }
        assertThat(freeSum).isEqualTo(a.freeEntries());
        assertThat(liveSum + freeSum).isEqualTo(capacity);
        assertThat(a.allocatedRanges()).isEqualTo(live.size());
    }
}
