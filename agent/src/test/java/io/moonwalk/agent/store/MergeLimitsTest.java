package io.moonwalk.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A merge request is refused from the index (before reading) or stopped, never unbounded. */
@Tag("pure")
class MergeLimitsTest {
    private static ProfileStore store(Path dir, int windows, int stacks) throws Exception {
        ProfileStoreTest.ManualClock clock = new ProfileStoreTest.ManualClock(1_000_000L);
        ProfileStore s = new ProfileStore(dir, 1 << 30, Duration.ofHours(1), clock);
        for (int i = 0; i < windows; i++) {
            s.write(ProfileStoreTest.window(1_000_000L + i * 1000L, stacks));
        }
        return s;
    }

    @Test
    void tooManyWindowsOrBytesAreRefusedFromTheIndex(@TempDir Path dir) throws Exception {
        ProfileStore s = store(dir, 6, 2);
        assertThatThrownBy(() -> s.merged(0, Long.MAX_VALUE, e -> true,
                new ProfileStore.MergeLimits(5, Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE)))
                .isInstanceOf(ProfileStore.MergeTooLargeException.class)
                .hasMessageContaining("6 windows").hasMessageContaining("at most 5 windows");
        long bytes = s.windows().stream().mapToLong(WindowSummary::bytes).sum(); // window files, not the index
        assertThatThrownBy(() -> s.merged(0, Long.MAX_VALUE, e -> true,
                new ProfileStore.MergeLimits(100, bytes - 1, Integer.MAX_VALUE, Long.MAX_VALUE)))
                .isInstanceOf(ProfileStore.MergeTooLargeException.class).hasMessageContaining("shorter range");
        // the same range within its limits merges every window
        assertThat(s.merged(0, Long.MAX_VALUE, e -> true,
                new ProfileStore.MergeLimits(6, bytes, Integer.MAX_VALUE, Long.MAX_VALUE)).totalSamples())
                .isEqualTo(6 * (7 + 3 + 2));
    }

    @Test
    void distinctStacksBeyondTheBoundStopTheMerge(@TempDir Path dir) throws Exception {
        ProfileStore s = store(dir, 3, 50); // 50 distinct nginx stacks per window, 2 shared luajit stacks
        assertThatThrownBy(() -> s.merged(0, Long.MAX_VALUE, e -> true,
                new ProfileStore.MergeLimits(100, Long.MAX_VALUE, 100, Long.MAX_VALUE)))
                .isInstanceOf(ProfileStore.MergeTooLargeException.class).hasMessageContaining("100 distinct stacks");
        assertThat(s.merged(0, Long.MAX_VALUE, e -> true,
                new ProfileStore.MergeLimits(100, Long.MAX_VALUE, 152, Long.MAX_VALUE)).entries()).hasSize(152);
    }
}
