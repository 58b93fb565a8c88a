package io.moonwalk.luajit.jit;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.process.ProcessMemory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Reads the JIT state of real luajit processes (every flavour and GC mode we have) running
 * {@code testdata/lua/side_trace.lua} and compares it with what LuaJIT reports about itself
 * ({@code jit.util.traceinfo/tracemc}, {@code jit.attach}).
 */
@Tag("tools")
class JitStateReaderLiveTest {

    static LuaRun start(JitTargets target, String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(target.exe().toString(), JitTargets.lua(script).toString()));
        cmd.addAll(List.of(args));
        Map<String, String> env = new HashMap<>();
        if (target.libraryPath() != null) {
            env.put("LD_LIBRARY_PATH", target.libraryPath());
        }
        return new LuaRun(cmd, env);
    }

    @ParameterizedTest
    @EnumSource(JitTargets.class)
    void tracesAreasAndParamsMatchLuajit(JitTargets target) throws Exception {
        try (LuaRun lua = start(target, "side_trace.lua", "0.3", "serve"); ProcessMemory mem = new ProcessMemory()) {
            LuaRun.Truth truth = LuaRun.parse(lua.readUntil("READY"), "");
            JitStateReader reader = new JitStateReader(mem, target.layout());
            long g = reader.globalOfThread(lua.pid, truth.thread());
            JitSnapshot s = reader.read(lua.pid, g);
            System.out.printf("%s: %s%n", target, s);

            assertThat(truth.traces()).as("LuaJIT compiled traces").isNotEmpty();
            assertThat(truth.sideTraces()).as("side_trace.lua produced a side trace (LuaJIT says)").isPositive();
            TruthCheck.matches(target.name(), s, truth);
            assertThat(s.sideTraces()).isEqualTo(truth.sideTraces());
            assertThat(s.jitOn()).isTrue();
            assertThat(s.vmstate()).as("blocked in io.read: VM state is C").isEqualTo(-2);
            long sum = s.areas().stream().mapToLong(McodeArea::size).sum();
            assertThat(sum).isEqualTo(s.szallmcarea());
            assertThat(s.param(JitParam.HOTLOOP)).as("default hotloop").isEqualTo(56);
            boolean openresty = target.name().startsWith("OPENRESTY") || target.name().startsWith("INSTALLED");
            assertThat(s.param(JitParam.MAXTRACE)).isEqualTo(openresty ? 8000 : 1000);
            assertThat(s.param(JitParam.MAXMCODE)).isEqualTo(openresty ? 40960 : 512);
            assertThat(s.areas()).allSatisfy(a -> assertThat(a.size()).isEqualTo(
                    (long) s.param(JitParam.SIZEMCODE) << 10));

            // parameters set through jit.opt are what the reader sees
            lua.command("opt maxtrace=1234 maxmcode=2048 hotexit=7");
            JitSnapshot opt = reader.read(lua.pid, g);
            assertThat(opt.param(JitParam.MAXTRACE)).isEqualTo(1234);
            assertThat(opt.param(JitParam.MAXMCODE)).isEqualTo(2048);
            assertThat(opt.param(JitParam.HOTEXIT)).isEqualTo(7);

            // the JIT switched off is seen as off
            lua.command("off");
            assertThat(reader.read(lua.pid, g).jitOn()).isFalse();
            lua.command("on");
            assertThat(reader.read(lua.pid, g).jitOn()).isTrue();

            // trace lookup: every byte of every trace's mcode maps back to it, the areas' headers to none
            TraceLookup lookup = TraceLookup.of(s);
            for (TraceInfo t : s.traces()) {
                for (long pc = t.mcode(); pc < t.mcodeEnd(); pc++) {
                    assertThat(lookup.tracenoAt(pc)).isEqualTo(t.traceno());
                }
                int i = lookup.indexOf(t.mcode());
                assertThat(lookup.spadjust(i)).isEqualTo(t.spadjust());
                assertThat(lookup.root(i)).isEqualTo(t.root());
            }
            for (McodeArea a : s.areas()) {
                assertThat(lookup.tracenoAt(a.start())).isZero();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = JitTargets.class, names = {"INSTALLED_OPENRESTY_GC64", "UPSTREAM_DEB_GC64",
            "UPSTREAM_NOGC64_BUILD"})
    void flushIsSeenWithinOneSnapshotInterval(JitTargets target) throws Exception {
        try (LuaRun lua = start(target, "side_trace.lua", "0.3", "serve"); ProcessMemory mem = new ProcessMemory()) {
            LuaRun.Truth before = LuaRun.parse(lua.readUntil("READY"), "");
            JitStateReader reader = new JitStateReader(mem, target.layout());
            long g = reader.globalOfThread(lua.pid, before.thread());
            FlushDetector d = new FlushDetector();
            FlushDetector.Change first = d.observe(reader.read(lua.pid, g));
            assertThat(first.added()).isNotEmpty();
            assertThat(first.flushed()).isFalse();

            // more work, no flush: traces may be added but nothing is flushed
            LuaRun.Truth same = LuaRun.parse(lua.command("run 0.1"), "");
            JitSnapshot s1 = reader.read(lua.pid, g);
            TruthCheck.matches(target + " after more work", s1, same);
            assertThat(d.observe(s1).flushed()).as("no flush happened (LuaJIT: %d)", same.flushes()).isFalse();

            // flush and recompile between two snapshots
            LuaRun.Truth recompiled = LuaRun.parse(lua.command("flushrun 0.2"), "");
            assertThat(recompiled.flushes()).isEqualTo(1);
            JitSnapshot s2 = reader.read(lua.pid, g);
            TruthCheck.matches(target + " after flush+recompile", s2, recompiled);
            FlushDetector.Change c2 = d.observe(s2);
            assertThat(c2.flushed()).as("flush then recompile detected: %s", c2).isTrue();

            // flush with nothing recompiled: no traces, no areas, routes to remove
            LuaRun.Truth empty = LuaRun.parse(lua.command("flush"), "");
            assertThat(empty.traces()).isEmpty();
            JitSnapshot s3 = reader.read(lua.pid, g);
            assertThat(s3.traces()).isEmpty();
            assertThat(s3.areas()).isEmpty();
            FlushDetector.Change c3 = d.observe(s3);
            assertThat(c3.flushed()).isTrue();
            assertThat(c3.removed()).isEqualTo(s2.areas());
            assertThat(c3.resyncAreas()).isTrue();
            assertThat(d.flushes()).isEqualTo(2);
            JitHealth h = JitHealth.of(s3, d);
            assertThat(h.flushes()).isEqualTo(2);
            assertThat(h.liveTraces()).isZero();
        }
    }
}
