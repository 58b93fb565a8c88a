package io.moonwalk.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.store.WindowSummary;
import io.moonwalk.interpreter.InterpreterStats;
import io.moonwalk.interpreter.InterpreterStats.Measurement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VmGaugesTest {
    @Test
    void takesTheChartedPerVmMetersLowestPidFirstWithinTheBound() {
        List<Measurement> m = new ArrayList<>();
        for (int pid = 40; pid >= 1; pid--) { // 40 VMs, listed highest pid first
            Map<String, String> tags = Map.of("pid", Integer.toString(pid), "vm", "vm1");
            m.add(Measurement.gauge("moonwalk.luajit.traces", "", tags, pid));
            m.add(Measurement.gauge("moonwalk.luajit.side.traces", "", tags, 1)); // not charted
            m.add(Measurement.gauge("moonwalk.luajit.mcode.bytes", "", tags, 4096));
            m.add(Measurement.gauge("moonwalk.luajit.max.mcode.bytes", "", tags, 8192));
            m.add(Measurement.counter("moonwalk.luajit.flushes", "", tags, 2));
        }
        m.add(Measurement.gauge("moonwalk.luajit.vms.unexported", "", Map.of(), 0)); // no VM tags
        List<WindowSummary.VmHealth> g = VmGauges.of(List.of(new InterpreterStats("luajit", m, List.of(), List.of())));
        assertThat(g).hasSize(WindowSummary.MAX_VMS);
        assertThat(g.getFirst()).isEqualTo(new WindowSummary.VmHealth("1/vm1", 1, 4096, 8192, 2));
        assertThat(g).extracting(WindowSummary.VmHealth::vm).containsExactly("1/vm1", "2/vm1", "3/vm1", "4/vm1", "5/vm1",
                "6/vm1", "7/vm1", "8/vm1");
    }
}
