package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import java.util.TreeSet;

/** Compares a {@link JitSnapshot} with what LuaJIT said about itself and with {@code /proc/PID/maps}. */
final class TruthCheck {
    private TruthCheck() {
    }

    static void matches(String what, JitSnapshot s, LuaRun.Truth truth) throws Exception {
        assertThat(s.rejectedTraces()).as("%s: rejected trace slots", what).isZero();
        // the VM keeps running (and may compile more traces) between printing its truth and our read; the dump
        // collects garbage first (dead traces of recursion recording are freed then), so every trace LuaJIT
        // named stays until a flush and must be there, exactly as it said
        assertThat(new TreeSet<>(s.traces().stream().map(TraceInfo::traceno).toList()))
                .as("%s: live trace numbers", what).containsAll(new TreeSet<>(truth.traces().keySet()));
        for (TraceInfo t : s.traces()) {
            LuaRun.TraceTruth lj = truth.traces().get(t.traceno());
            if (lj == null) {
                continue;
            }
            String label = what + " trace " + t.traceno();
            assertThat(t.mcode()).as("%s mcode (jit.util.tracemc)", label).isEqualTo(lj.mcode());
            assertThat(t.szmcode()).as("%s szmcode", label).isEqualTo(lj.szmcode());
            assertThat(t.link()).as("%s link (jit.util.traceinfo)", label).isEqualTo(lj.link());
            assertThat(t.startpt()).as("%s start proto (jit.attach start)", label).isEqualTo(lj.startProto());
            assertThat(t.root()).as("%s root (parent chain from jit.attach)", label).isEqualTo(lj.root());
            assertThat(s.areaOf(t.mcode())).as("%s: an area holds its mcode", label).isNotNull();
        }
        areasAreAnonymousExecutableMappings(what, s);
    }

    /** Every area lies inside one anonymous r-x mapping of the process (LuaJIT maps mcode RW only while assembling). */
    static void areasAreAnonymousExecutableMappings(String what, JitSnapshot s) throws Exception {
        ProcessMaps maps = ProcessMaps.read(s.pid());
        for (McodeArea a : s.areas()) {
            Mapping m = maps.find(a.start());
            assertThat(m).as("%s: area %s in /proc/%d/maps", what, a, s.pid()).isNotNull();
            assertThat(m.end()).as("%s: area %s within %s", what, a, m).isGreaterThanOrEqualTo(a.end());
            assertThat(m.isAnonymous()).as("%s: area %s mapping %s anonymous", what, a, m).isTrue();
            assertThat(m.perms()).as("%s: area %s mapping %s", what, a, m).startsWith("r-x");
        }
    }
}
