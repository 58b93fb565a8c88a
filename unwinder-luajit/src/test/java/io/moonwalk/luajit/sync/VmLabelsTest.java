package io.moonwalk.luajit.sync;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

@Tag("pure")
class VmLabelsTest {
    @Test
    void noVmNoLabels() {
        VmLabels v = new VmLabels();
        assertThat(v.key(1, 0, -1)).isZero();
        assertThat(v.labels(0)).isEmpty();
    }

    @Test
    void statesAndStableIdsPerPidAndGlobalState() {
        VmLabels v = new VmLabels();
        long interp = v.key(10, 0x7f00_0000_1000L, -1);
        long c = v.key(10, 0x7f00_0000_1000L, -2);
        long otherVm = v.key(10, 0x7f00_0000_2000L, -3);
        long otherPid = v.key(11, 0x7f00_0000_1000L, -4);
        assertThat(v.labels(interp)).isEqualTo(Map.of(VmLabels.VM_STATE, "interpreted", VmLabels.VM, "vm1"));
        assertThat(v.labels(c)).isEqualTo(Map.of(VmLabels.VM_STATE, "c", VmLabels.VM, "vm1"));
        assertThat(v.labels(otherVm)).isEqualTo(Map.of(VmLabels.VM_STATE, "gc", VmLabels.VM, "vm2"));
        assertThat(v.labels(otherPid)).isEqualTo(Map.of(VmLabels.VM_STATE, "exit", VmLabels.VM, "vm3"));
        assertThat(v.key(10, 0x7f00_0000_1000L, -1)).isEqualTo(interp);
    }

    @Test
    void everyTraceNumberIsOneCompiledKey() {
        VmLabels v = new VmLabels();
        long t1 = v.key(1, 0x1000, 1);
        long t77 = v.key(1, 0x1000, 77);
        assertThat(t1).isEqualTo(t77);
        assertThat(v.labels(t1)).containsEntry(VmLabels.VM_STATE, "compiled");
        assertThat(VmLabels.stateName(-5)).isEqualTo("record");
        assertThat(VmLabels.stateName(-6)).isEqualTo("optimize");
        assertThat(VmLabels.stateName(-7)).isEqualTo("assemble");
        assertThat(VmLabels.stateName(-99)).isEqualTo("unknown");
    }

    @Test
    void idsOfExitedProcessesAreNotReused() {
        VmLabels v = new VmLabels();
        v.key(1, 0x1000, -1);
        v.forget(1);
        assertThat(v.labels(v.key(2, 0x1000, -1))).containsEntry(VmLabels.VM, "vm2");
    }
}
