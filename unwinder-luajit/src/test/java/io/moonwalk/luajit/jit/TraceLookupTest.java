package io.moonwalk.luajit.jit;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

@Tag("pure")
class TraceLookupTest {
    private static TraceInfo t(int no, long mcode, long size) {
        return new TraceInfo(no, 0, 0, 0x1000L * no, 0, 0, mcode, size, 16 * no);
    }

    @Test
    void boundariesGapsAndEmpty() {
        TraceLookup empty = TraceLookup.of(List.of());
        assertThat(empty.tracenoAt(0x1234)).isZero();
        // traces are carved top-down: higher numbers at lower addresses, with gaps
        TraceLookup l = TraceLookup.of(List.of(t(1, 0x9000, 0x100), t(2, 0x8e00, 0x100), t(3, 0x8d00, 0x100)));
        assertThat(l.tracenoAt(0x8cff)).isZero();
        assertThat(l.tracenoAt(0x8d00)).isEqualTo(3);
        assertThat(l.tracenoAt(0x8dff)).isEqualTo(3);
        assertThat(l.tracenoAt(0x8e00)).isEqualTo(2);
        assertThat(l.tracenoAt(0x8f00)).as("gap").isZero();
        assertThat(l.tracenoAt(0x90ff)).isEqualTo(1);
        assertThat(l.tracenoAt(0x9100)).isZero();
        assertThat(l.tracenoAt(-1L)).as("unsigned top of the address space").isZero();
        int i = l.indexOf(0x9010);
        assertThat(l.spadjust(i)).isEqualTo(16);
    }

    @Test
    void agreesWithALinearScanOnRandomLayouts() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int round = 0; round < 200; round++) {
            List<TraceInfo> ts = new ArrayList<>();
            long top = 0x7f00_0000_0000L;
            for (int no = 1; no <= 1 + rnd.nextInt(300); no++) {
                long size = 1 + rnd.nextInt(2000);
                top -= size + rnd.nextInt(3) * rnd.nextInt(64);
                ts.add(t(no, top, size));
            }
            TraceLookup l = TraceLookup.of(ts);
            for (int q = 0; q < 500; q++) {
                long pc = top - 100 + rnd.nextLong(0x7f00_0000_0000L - top + 200);
                int expect = 0;
                for (TraceInfo x : ts) {
                    if (pc >= x.mcode() && pc < x.mcodeEnd()) {
                        expect = x.traceno();
                    }
                }
                assertThat(l.tracenoAt(pc)).isEqualTo(expect);
            }
        }
    }
}
