package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JIT walk end to end (issue 5): {@code moonwalk record --pid} on real LuaJIT processes running compiled
 * traces. Samples in mcode areas must come back as the trace's Lua frame ({@code _[j]}) over the rest of the Lua
 * stack and the native stack down to {@code main}; shares are judged against {@code jit.p} in the same process.
 */
class LuajitJitWalkIT {
    private static final String JIT = "_[j]";

    @BeforeAll
    static void root() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    /** The profile with the JIT suffix taken off Lua frames, so the interpreter walk's helpers read it. */
    private static Folded withoutJitSuffix(Folded p) {
        return new Folded(p.lines().stream().map(l -> new Folded.Line(l.frames().stream()
                .map(f -> f.endsWith(JIT) ? f.substring(0, f.length() - JIT.length()) : f).toList(), l.count()))
                .toList());
    }

    private static boolean hasJitFrame(Folded.Line l) {
        return l.frames().stream().anyMatch(f -> f.endsWith(JIT));
    }

    @ParameterizedTest
    @ValueSource(strings = {"luajit2", "upstream"})
    void sharesWithTheJitOnMatchJitPAndStacksAreComplete(String name) throws Exception {
        LuajitWalkIT.Variant v = LuajitWalkIT.variant(name);
        Path jp = Moonwalk.WORK.resolve(name + "-jit-jitp.txt");
        Files.deleteIfExists(jp);
        Path script = Moonwalk.ROOT.resolve("testdata/lua/shares.lua");
        Process lj = LuajitWalkIT.start(v, "-jp=fi1," + jp, script.toString(), "9");
        try {
            Thread.sleep(400);
            Folded raw = LuajitWalkIT.record(lj, name + "-jit", 499, 6).ofProcess("luajit");
            assertThat(lj.waitFor(60, TimeUnit.SECONDS)).as("the workload ends").isTrue();
            Folded p = withoutJitSuffix(raw);
            Map<String, Double> ours = LuajitWalkIT.leafLuaShares(p);
            Map<String, Double> theirs = LuajitWalkIT.jitpShares(jp);
            long complete = p.countMatching(LuajitWalkIT::complete);
            double completeShare = 100.0 * complete / p.total();
            long inTraces = raw.countMatching(LuajitJitWalkIT::hasJitFrame);
            System.out.printf("%s JIT on: %d samples, complete %.2f%%, in traces %.1f%%; moonwalk %s; jit.p %s%n",
                    name, p.total(), completeShare, 100.0 * inTraces / p.total(), ours, theirs);
            assertThat(p.total()).isGreaterThan(1000);
            assertThat(100.0 * inTraces / p.total()).as("samples inside traces, %%").isGreaterThan(50.0);
            for (String fn : List.of("a", "c", "shares.lua:10")) {
                assertThat(ours.getOrDefault(fn, 0.0)).as("%s share of %s vs jit.p", name, fn)
                        .isCloseTo(theirs.getOrDefault(fn, -100.0), Offset.offset(5.0));
            }
            assertThat(completeShare).as("complete stacks").isGreaterThanOrEqualTo(95.0);
            // trace frames carry the function the trace runs in, under its true callers
            assertThat(raw.countMatching(l -> l.joined().matches(
                    ".*;main chunk \\([^;]*shares\\.lua:\\d+\\);a \\([^;]*shares\\.lua:\\d+\\)_\\[j\\](;[^;]*)*$")))
                    .as("main chunk;a_[j]").isGreaterThan(0);
            assertThat(raw.countMatching(l -> l.joined().matches(
                    ".*;main chunk \\([^;]*shares\\.lua:\\d+\\);b \\([^;]*shares\\.lua:9\\);c \\([^;]*shares\\.lua:\\d+\\)_\\[j\\](;[^;]*)*$")))
                    .as("main chunk;b;c_[j]").isGreaterThan(0);
        } finally {
            lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void sideTraceUnwindsToItsTrueCallers() throws Exception {
        Process lj = LuajitWalkIT.start(LuajitWalkIT.variant("luajit2"),
                Moonwalk.ROOT.resolve("testdata/lua/side_trace.lua").toString(), "10");
        try {
            Thread.sleep(600);
            Folded raw = LuajitWalkIT.record(lj, "side-trace", 499, 4).ofProcess("luajit");
            long inTraces = raw.countMatching(LuajitJitWalkIT::hasJitFrame);
            // every trace sample: exactly main chunk -> run -> work (compiled; rare is inlined), then C below the
            // trace only if the trace called out
            long exact = raw.countMatching(l -> hasJitFrame(l) && l.joined().matches(
                    "luajit;_start;__libc_start_main;__libc_start_call_main;main;lua_cpcall;.*lua_pcall;"
                            + "main chunk \\([^;]*side_trace\\.lua:\\d+\\);run \\([^;]*side_trace\\.lua:\\d+\\);"
                            + "work \\([^;]*side_trace\\.lua:\\d+\\)_\\[j\\](;[^;]*)*$"));
            System.out.printf("side_trace: %d samples, %d in traces, %d of them with the exact stack%n", raw.total(),
                    inTraces, exact);
            assertThat(inTraces).isGreaterThan(raw.total() / 2);
            assertThat(100.0 * exact / inTraces).as("trace samples with the exact expected stack, %%")
                    .isGreaterThanOrEqualTo(95.0);
        } finally {
            lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
