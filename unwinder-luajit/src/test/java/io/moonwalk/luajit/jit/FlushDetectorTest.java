package io.moonwalk.luajit.jit;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

@Tag("pure")
class FlushDetectorTest {
    private static final long A = 0x7f00_0000_0000L;
    private static final int[] PARAMS = {8000, 16000, 500, 100, 500, 3, 56, 10, 4, 4, 15, 3, 2, 64, 40960};

    private static JitSnapshot snap(long g, List<McodeArea> areas, long mctop, List<TraceInfo> traces) {
        long all = areas.stream().mapToLong(McodeArea::size).sum();
        long cur = areas.isEmpty() ? 0 : areas.get(areas.size() - 1).start();
        return new JitSnapshot(1, g, System.nanoTime(), 1, 0, -1, PARAMS, areas, all, cur, cur + 64, mctop,
                traces.size() + 1, traces, 0);
    }

    private static TraceInfo t(int no, long gct, long mcode) {
        return new TraceInfo(no, 0, 0, gct, 0x5000, 0, mcode, 0x80, 0);
    }

    @Test
    void growthIsNotAFlushButAreaChangesAreReported() {
        FlushDetector d = new FlushDetector();
        McodeArea a1 = new McodeArea(A, 0x10000);
        McodeArea a2 = new McodeArea(A - 0x10000, 0x10000);
        FlushDetector.Change c0 = d.observe(snap(1, List.of(a1), A + 0xff00, List.of(t(1, 0x100, A + 0xff00))));
        assertThat(c0.added()).containsExactly(a1);
        FlushDetector.Change c1 = d.observe(snap(1, List.of(a1), A + 0xfe00,
                List.of(t(1, 0x100, A + 0xff00), t(2, 0x200, A + 0xfe00))));
        assertThat(c1.flushed()).isFalse();
        assertThat(c1.resyncAreas()).isFalse();
        FlushDetector.Change c2 = d.observe(snap(1, List.of(a1, a2), A - 0x100,
                List.of(t(1, 0x100, A + 0xff00), t(2, 0x200, A + 0xfe00), t(3, 0x300, A - 0x100))));
        assertThat(c2.flushed()).isFalse();
        assertThat(c2.added()).containsExactly(a2);
        assertThat(d.flushes()).isZero();
        assertThat(d.areaChanges()).isEqualTo(2);
        assertThat(d.tracesCompiled()).as("the first read's trace predates tracking; then traces 2 and 3").isEqualTo(2);
    }

    @Test
    void tracesCompiledCountsReusedNumbersAndNotSurvivors() {
        McodeArea a1 = new McodeArea(A, 0x10000);
        FlushDetector d = new FlushDetector();
        d.observe(snap(1, List.of(a1), A + 0xf000, List.of(t(1, 0x100, A + 0xf800), t(2, 0x200, A + 0xf000))));
        // trace 1 survives, trace 2 was freed and its number handed out again (new GCtrace, new mcode), 3 is new
        d.observe(snap(1, List.of(a1), A + 0xe000, List.of(t(1, 0x100, A + 0xf800), t(2, 0x300, A + 0xe800),
                t(3, 0x400, A + 0xe000))));
        assertThat(d.tracesCompiled()).isEqualTo(2);
        // a flush, then two traces compiled: numbers 1 and 2 again with new objects
        d.observe(snap(1, List.of(a1), A + 0xff00, List.of(t(1, 0x500, A + 0xff80), t(2, 0x600, A + 0xff00))));
        assertThat(d.flushes()).isEqualTo(1);
        assertThat(d.tracesCompiled()).isEqualTo(4);
        // nothing new: nothing counted
        d.observe(snap(1, List.of(a1), A + 0xff00, List.of(t(1, 0x500, A + 0xff80), t(2, 0x600, A + 0xff00))));
        assertThat(d.tracesCompiled()).isEqualTo(4);
        assertThat(d.trackedNanos()).isPositive();
    }

    @Test
    void flushSignals() {
        McodeArea a1 = new McodeArea(A, 0x10000);
        McodeArea other = new McodeArea(A - 0x40000, 0x10000);
        // same area address reused after a flush, a trace with the same number but a new GCtrace: free space grew
        FlushDetector d = new FlushDetector();
        d.observe(snap(1, List.of(a1), A + 0xf000, List.of(t(1, 0x100, A + 0xf000), t(2, 0x200, A + 0xf800))));
        FlushDetector.Change c = d.observe(snap(1, List.of(a1), A + 0xff80, List.of(t(1, 0x900, A + 0xff80))));
        assertThat(c.flushed()).isTrue();
        assertThat(c.resyncAreas()).isFalse();
        // the area moved: removed + added, flushed
        FlushDetector.Change c2 = d.observe(snap(1, List.of(other), other.start() + 0xff80,
                List.of(t(1, 0x900, other.start() + 0xff80))));
        assertThat(c2.flushed()).isTrue();
        assertThat(c2.removed()).containsExactly(a1);
        assertThat(c2.added()).containsExactly(other);
        // emptied
        FlushDetector.Change c3 = d.observe(snap(1, List.of(), 0, List.of()));
        assertThat(c3.flushed()).isTrue();
        assertThat(d.flushes()).isEqualTo(3);
        // nothing to nothing is not a flush
        assertThat(d.observe(snap(1, List.of(), 0, List.of())).flushed()).isFalse();
        assertThatThrownBy(() -> d.observe(snap(2, List.of(), 0, List.of()))).hasMessageContaining("per VM");
    }
}
