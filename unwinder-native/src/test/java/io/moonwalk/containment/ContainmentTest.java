package io.moonwalk.containment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("pure")
class ContainmentTest {
    @Test
    void aContainedFaultIsCountedPerStageButAnOutOfMemoryErrorGoesThrough() {
        long before = Faults.count(Stage.JIT_SYNC);
        long other = Faults.count(Stage.DRAIN);
        Faults.contained(Stage.JIT_SYNC, "pid 1", new StackOverflowError("deep"));
        Faults.contained(Stage.JIT_SYNC, "pid 2", new IllegalStateException("bad"));
        assertThat(Faults.count(Stage.JIT_SYNC)).isEqualTo(before + 2);
        assertThat(Faults.count(Stage.DRAIN)).isEqualTo(other);
        OutOfMemoryError oom = new OutOfMemoryError("heap");
        assertThatThrownBy(() -> Faults.contained(Stage.JIT_SYNC, "pid 3", oom)).isSameAs(oom);
        assertThat(Faults.count(Stage.JIT_SYNC)).isEqualTo(before + 2);
    }

    @Test
    void withoutThePropertyNothingIsInjected() {
        assertThat(System.getProperty(Faults.INJECT_PROPERTY)).isNull();
        for (Stage s : Stage.values()) {
            Faults.inject(s, 1); // must not throw
        }
        assertThat(Stage.of("map_sync")).isEqualTo(Stage.MAP_SYNC);
        assertThat(Stage.of("nope")).isNull();
    }

    @Test
    void aWorkerWhoseThreadEndedIsReportedDeadAndOneThatStopsIsForgotten() throws Exception {
        Thread t = Thread.ofPlatform().unstarted(() -> { });
        Heartbeats.Beat beat = Heartbeats.register("test-worker", t);
        try {
            assertThat(beat.alive()).as("not started yet").isTrue();
            t.start();
            t.join();
            assertThat(beat.alive()).isFalse();
            assertThat(Heartbeats.workers()).contains(beat);
            Thread.sleep(5);
            assertThat(beat.quietNanos()).isPositive();
            beat.beat();
            assertThat(beat.quietNanos()).isLessThan(1_000_000_000L);
        } finally {
            beat.close();
        }
        assertThat(Heartbeats.workers()).doesNotContain(beat);
    }
}
