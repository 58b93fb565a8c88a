package io.moonwalk.agent.collect;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.aggregate.RawStackTable;
import io.moonwalk.testfixtures.BoundedJvm;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A window's raw stack table is bounded by the heap, not by a fixed 64 M words (512 MiB): a window that
 * fills it under a 64 MiB heap drops and counts samples instead of ending the JVM with an OutOfMemoryError.
 */
@Tag("pure")
class WindowTableBoundTest {
    /** Fills a window table with distinct 64-word stacks until it refuses 10,000 samples in a row. */
    public static final class FillProbe {
        public static void main(String[] args) {
            RawStackTable t = SampleCollector.newWindowTable();
            long[] words = new long[64];
            int refusedInARow = 0;
            for (long i = 0; refusedInARow < 10_000 && i < 100_000_000L; i++) {
                words[0] = i;
                words[1] = i * 31;
                if (t.add(1, 2, 0, 0, words, words.length, 0, 0, 1)) {
                    refusedInARow = 0;
                } else {
                    refusedInARow++;
                }
            }
            System.out.println("stacks=" + t.size() + " maxStacks=" + t.maxStacks() + " maxWords=" + t.maxWords()
                    + " dropped=" + t.droppedSamples());
        }
    }

    @Test
    void aFullWindowUnderA64MiBHeapDropsAndCountsInsteadOfRunningOutOfMemory() throws Exception {
        BoundedJvm.Outcome o = BoundedJvm.run("64m", 120, FillProbe.class);
        assertThat(o.timedOut()).isFalse();
        assertThat(o.exitCode()).as("no OutOfMemoryError: %s", o.output()).isZero();
        assertThat(o.output()).containsPattern("stacks=\\d+ maxStacks=\\d+ maxWords=\\d+ dropped=10000");
    }

    @Test
    void theBoundFollowsTheHeapAndNeverExceedsTheFixedMaxima() {
        RawStackTable small = RawStackTable.boundedByHeap(128L << 20, SampleCollector.MAX_STACKS_PER_WINDOW,
                SampleCollector.MAX_WORDS_PER_WINDOW);
        assertThat((long) small.maxWords() * 16 + (long) small.maxStacks() * 128).isLessThanOrEqualTo(32L << 20);
        assertThat(small.maxWords()).isGreaterThanOrEqualTo(1 << 20);
        RawStackTable huge = RawStackTable.boundedByHeap(64L << 30, SampleCollector.MAX_STACKS_PER_WINDOW,
                SampleCollector.MAX_WORDS_PER_WINDOW);
        assertThat(huge.maxWords()).isEqualTo(SampleCollector.MAX_WORDS_PER_WINDOW);
        assertThat(huge.maxStacks()).isEqualTo(SampleCollector.MAX_STACKS_PER_WINDOW);
    }
}
