package io.moonwalk.luajit.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.interpreter.InterpreterStats.Measurement;
import io.moonwalk.interpreter.InterpreterStats.Type;
import io.moonwalk.luajit.abort.VmAborts;
import io.moonwalk.luajit.gc.GcHeap;
import io.moonwalk.luajit.jit.JitHealth;
import io.moonwalk.luajit.sync.VmLabels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("pure")
class JitHealthSeriesTest {

    private static JitHealth health(int pid, long g, int traces, int areas, long flushes) {
        return new JitHealth(pid, g, true, traces, 2, 1000, areas, areas * 65536L, traces * 100L, 16L << 20, 65536,
                flushes, traces + 5 * flushes, 1_000_000_000L, 0);
    }

    private final VmLabels labels = new VmLabels();

    private Optional<Measurement> find(List<Measurement> ms, String name, int pid, long g) {
        return ms.stream().filter(m -> m.name().equals(name) && Integer.toString(pid).equals(m.tags().get("pid"))
                && labels.name(pid, g).equals(m.tags().get("vm"))).findFirst();
    }

    private double gauge(List<Measurement> ms, String name, int pid, long g) {
        Measurement m = find(ms, name, pid, g).orElseThrow(() -> new AssertionError(name + " of pid " + pid));
        assertThat(m.type()).isEqualTo(Type.GAUGE);
        return m.value();
    }

    @Test
    void followsTheSnapshotAndDropsTheSeriesOfGoneVms() {
        JitHealthSeries s = new JitHealthSeries(labels);
        List<Measurement> ms = s.measurements(List.of(health(10, 0x1000, 7, 1, 0), health(11, 0x2000, 40, 3, 2)));
        assertThat(gauge(ms, "moonwalk.luajit.traces", 10, 0x1000)).isEqualTo(7);
        assertThat(gauge(ms, "moonwalk.luajit.mcode.areas", 11, 0x2000)).isEqualTo(3);
        assertThat(gauge(ms, "moonwalk.luajit.mcode.bytes", 11, 0x2000)).isEqualTo(3 * 65536);
        assertThat(gauge(ms, "moonwalk.luajit.max.traces", 11, 0x2000)).isEqualTo(1000);
        assertThat(gauge(ms, "moonwalk.luajit.max.mcode.bytes", 11, 0x2000)).isEqualTo(16 << 20);

        ms = s.measurements(List.of(health(11, 0x2000, 0, 0, 3)));
        assertThat(find(ms, "moonwalk.luajit.traces", 10, 0x1000)).as("pid 10 is gone").isEmpty();
        assertThat(find(ms, "moonwalk.luajit.flushes", 10, 0x1000)).isEmpty();
        assertThat(gauge(ms, "moonwalk.luajit.traces", 11, 0x2000)).as("after a flush").isZero();
        Measurement flushes = find(ms, "moonwalk.luajit.flushes", 11, 0x2000).orElseThrow();
        assertThat(flushes.type()).isEqualTo(Type.COUNTER);
        assertThat(flushes.value()).isEqualTo(3);
        Measurement compiled = find(ms, "moonwalk.luajit.traces.compiled", 11, 0x2000).orElseThrow();
        assertThat(compiled.type()).isEqualTo(Type.COUNTER);
        assertThat(compiled.value()).as("the VM's own figure, not another VM's").isEqualTo(
                ms.stream().filter(m -> m.name().equals("moonwalk.luajit.traces") && m.tags().get("pid").equals("11"))
                        .findFirst().orElseThrow().value() + 5 * 3);
        assertThat(s.exported()).isEqualTo(1);
    }

    @Test
    void gcAndAbortSeriesFollowTheVmsToo() {
        JitHealthSeries s = new JitHealthSeries(labels);
        List<Measurement> ms = s.measurements(List.of(health(10, 0x1000, 7, 1, 0), health(11, 0x2000, 4, 1, 0)),
                List.of(new GcHeap(10, 0x1000, 123_456, 200_000, 1), new GcHeap(99, 0x9000, 1, 2, 0)),
                List.of(new VmAborts.Summary(11, 0x2000, 42, Map.of("NYI: bytecode", 42L), List.of())));
        assertThat(gauge(ms, "moonwalk.luajit.gc.bytes", 10, 0x1000)).isEqualTo(123_456);
        assertThat(gauge(ms, "moonwalk.luajit.gc.threshold.bytes", 10, 0x1000)).isEqualTo(200_000);
        assertThat(gauge(ms, "moonwalk.luajit.gc.state", 10, 0x1000)).isEqualTo(1);
        assertThat(find(ms, "moonwalk.luajit.gc.bytes", 11, 0x2000)).as("no heap read for this VM").isEmpty();
        assertThat(ms).as("a heap of a VM without health is not exported")
                .noneMatch(m -> "99".equals(m.tags().get("pid")));
        Measurement aborts = find(ms, "moonwalk.luajit.vm.trace.aborts", 11, 0x2000).orElseThrow();
        assertThat(aborts.type()).isEqualTo(Type.COUNTER);
        assertThat(aborts.value()).isEqualTo(42);

        ms = s.measurements(List.of(health(11, 0x2000, 4, 1, 0)), List.of(), List.of());
        assertThat(find(ms, "moonwalk.luajit.gc.bytes", 10, 0x1000)).as("pid 10 is gone").isEmpty();
    }

    @Test
    void theVmLabelIsTheSamplesVmIdNeverAnAddress() {
        long g = 0x7f12_3456_7000L;
        long key = labels.key(42, g, -1); // the VM's first sample: it gets the next id
        JitHealthSeries s = new JitHealthSeries(labels);
        List<Measurement> ms = s.measurements(List.of(health(42, g, 3, 1, 0), health(43, 0x7f00_0000_1000L, 1, 1, 0)));
        assertThat(ms).allSatisfy(m -> assertThat(m.tags().values()).allMatch(v -> !v.startsWith("0x")
                && !v.contains(Long.toHexString(g))));
        Measurement traces = ms.stream().filter(m -> m.name().equals("moonwalk.luajit.traces")
                && "42".equals(m.tags().get("pid"))).findFirst().orElseThrow();
        assertThat(traces.tags().get("vm")).matches("vm[0-9]+").isEqualTo(labels.labels(key).get(VmLabels.VM));
        assertThat(ms.stream().filter(m -> m.name().equals("moonwalk.luajit.traces")).map(m -> m.tags().get("vm")))
                .doesNotHaveDuplicates();
    }

    @Test
    void boundsTheSeriesByTheVmLimit() {
        JitHealthSeries s = new JitHealthSeries(labels);
        List<JitHealth> many = new ArrayList<>();
        for (int i = 0; i < JitHealthSeries.MAX_VMS + 5; i++) {
            many.add(health(100 + i, 0x1000, 1, 1, 0));
        }
        List<Measurement> ms = s.measurements(many);
        assertThat(s.exported()).isEqualTo(JitHealthSeries.MAX_VMS);
        assertThat(s.unexported()).isEqualTo(5);
        assertThat(ms.stream().filter(m -> m.name().equals("moonwalk.luajit.traces"))).hasSize(JitHealthSeries.MAX_VMS);
        assertThat(ms.stream().filter(m -> m.name().equals("moonwalk.luajit.vms.unexported")).findFirst().orElseThrow()
                .value()).isEqualTo(5);
        ms = s.measurements(List.of());
        assertThat(ms).extracting(Measurement::name).containsExactly("moonwalk.luajit.vms.unexported");
        assertThat(s.unexported()).isZero();
    }
}
