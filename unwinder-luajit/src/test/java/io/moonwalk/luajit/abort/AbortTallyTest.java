package io.moonwalk.luajit.abort;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The abort arithmetic on penalty-cache reads built by hand, following lj_trace.c's penalty_pc. */
@Tag("pure")
class AbortTallyTest {
    private static PenaltyCache cache(PenaltySlot... used) {
        List<PenaltySlot> slots = new ArrayList<>();
        for (int i = 0; i < PenaltyCache.SLOTS; i++) {
            slots.add(i < used.length ? used[i] : new PenaltySlot(0, 0, 0, false));
        }
        return new PenaltyCache(1, 0x1000, slots, used.length);
    }

    /** What penalty_pc leaves after n aborts at one site with the largest random bits each time. */
    private static int valueAfter(int aborts, int noise) {
        int v = PenaltySlot.MIN;
        for (int i = 1; i < aborts; i++) {
            v = 2 * v + noise;
        }
        return v;
    }

    @Test
    void everyAbortUntilTheBlacklistIsCountedWhateverTheRandomBits() {
        for (int noise : new int[] {0, 15}) {
            for (int first = 1; first <= 10; first++) {
                for (int second = first; second <= 10; second++) {
                    AbortTally t = new AbortTally();
                    t.observe(cache(new PenaltySlot(0x4000, valueAfter(first, noise), 10, false)));
                    assertThat(t.total()).as("first read after %d aborts (noise %d)", first, noise).isEqualTo(first);
                    t.observe(cache(new PenaltySlot(0x4000, valueAfter(second, noise), 10, false)));
                    assertThat(t.total()).as("%d then %d aborts", first, second).isEqualTo(second);
                }
            }
        }
    }

    @Test
    void theBlacklistingAbortCountsOnceWithTheRecordedReason() {
        AbortTally t = new AbortTally();
        t.observe(cache(new PenaltySlot(0x4000, valueAfter(10, 15), 8, false)));
        assertThat(t.total()).isEqualTo(10);
        List<AbortTally.Aborts> a = t.observe(cache(new PenaltySlot(0x4000, valueAfter(10, 15), 8, true)));
        assertThat(a).containsExactly(new AbortTally.Aborts(0x4000, 8, 1, true));
        assertThat(t.observe(cache(new PenaltySlot(0x4000, valueAfter(10, 15), 8, true)))).isEmpty();
        assertThat(t.total()).isEqualTo(11);
        assertThat(t.count(8)).isEqualTo(11);
    }

    @Test
    void aSlotTakenByAnotherSiteOrClearedByAFlushStartsAgain() {
        AbortTally t = new AbortTally();
        t.observe(cache(new PenaltySlot(0x4000, valueAfter(5, 3), 10, false)));
        t.observe(cache(new PenaltySlot(0x5000, valueAfter(2, 3), 7, false)));
        assertThat(t.total()).isEqualTo(7);
        t.observe(cache()); // jit.flush() clears the cache
        t.observe(cache(new PenaltySlot(0x5000, PenaltySlot.MIN, 7, false)));
        assertThat(t.total()).isEqualTo(8);
        assertThat(t.count(7)).isEqualTo(3);
        assertThat(t.count(10)).isEqualTo(5);
    }

    @Test
    void reasonsOutsideTheTableShareOneBoundedLabel() {
        AbortTally t = new AbortTally();
        t.observe(cache(new PenaltySlot(0x4000, PenaltySlot.MIN, 200, false)));
        assertThat(t.count(TraceErrors.count())).isEqualTo(1);
        assertThat(TraceErrors.label(200)).isEqualTo(TraceErrors.OTHER);
        assertThat(TraceErrors.labels()).hasSize(TraceErrors.count() + 1).doesNotHaveDuplicates();
        assertThat(TraceErrors.label(15)).isEqualTo("NYI: unsupported variant of FastFunc");
    }
}
