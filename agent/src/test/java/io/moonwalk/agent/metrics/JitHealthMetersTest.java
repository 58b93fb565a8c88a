package io.moonwalk.agent.metrics;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.moonwalk.luajit.jit.JitHealth;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

@Tag("pure")
class JitHealthMetersTest {

    private static JitHealth health(int pid, long g, int traces, int areas, long flushes) {
        return new JitHealth(pid, g, true, traces, 2, 1000, areas, areas * 65536L, traces * 100L, 16L << 20, 65536,
                flushes, 0);
    }

    private static double gauge(SimpleMeterRegistry r, String name, int pid, long g) {
        Gauge gauge = r.find(name).tag("pid", Integer.toString(pid)).tag("vm", "0x" + Long.toHexString(g)).gauge();
        assertThat(gauge).as(name + " of pid " + pid).isNotNull();
        return gauge.value();
    }

    @Test
    void followsTheSnapshotAndRemovesTheMetersOfGoneVms() {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        JitHealthMeters m = new JitHealthMeters(r);
        m.update(List.of(health(10, 0x1000, 7, 1, 0), health(11, 0x2000, 40, 3, 2)));
        assertThat(gauge(r, "moonwalk.luajit.traces", 10, 0x1000)).isEqualTo(7);
        assertThat(gauge(r, "moonwalk.luajit.mcode.areas", 11, 0x2000)).isEqualTo(3);
        assertThat(gauge(r, "moonwalk.luajit.mcode.bytes", 11, 0x2000)).isEqualTo(3 * 65536);
        assertThat(gauge(r, "moonwalk.luajit.max.traces", 11, 0x2000)).isEqualTo(1000);
        assertThat(gauge(r, "moonwalk.luajit.max.mcode.bytes", 11, 0x2000)).isEqualTo(16 << 20);

        m.update(List.of(health(11, 0x2000, 0, 0, 3)));
        assertThat(r.find("moonwalk.luajit.traces").tag("pid", "10").gauge()).as("pid 10 is gone").isNull();
        assertThat(r.find("moonwalk.luajit.flushes").tag("pid", "10").functionCounter()).isNull();
        assertThat(gauge(r, "moonwalk.luajit.traces", 11, 0x2000)).as("after a flush").isZero();
        FunctionCounter flushes = r.find("moonwalk.luajit.flushes").tag("pid", "11").functionCounter();
        assertThat(flushes.count()).isEqualTo(3);
        assertThat(m.exported()).isEqualTo(1);
    }

    @Test
    void boundsTheSeriesByTheVmLimit() {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        JitHealthMeters m = new JitHealthMeters(r);
        List<JitHealth> many = new ArrayList<>();
        for (int i = 0; i < JitHealthMeters.MAX_VMS + 5; i++) {
            many.add(health(100 + i, 0x1000, 1, 1, 0));
        }
        m.update(many);
        assertThat(m.exported()).isEqualTo(JitHealthMeters.MAX_VMS);
        assertThat(m.unexported()).isEqualTo(5);
        assertThat(r.find("moonwalk.luajit.traces").gauges()).hasSize(JitHealthMeters.MAX_VMS);
        m.update(List.of());
        assertThat(r.getMeters()).isEmpty();
        assertThat(m.unexported()).isZero();
    }
}
