package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code moonwalk agent} while {@code luajit -jv testdata/lua/trace_aborts.lua} runs and then waits: on
 * {@code /metrics} the VM's GC bytes equal {@code collectgarbage("count")} printed by the workload (within 5 %),
 * its abort counter equals the root-trace aborts jit.v printed, and the reason counter carries LuaJIT's spelling.
 */
class LuajitDiagnosticsIT {
    private static final Pattern ROOT_ABORT = Pattern.compile("^\\[TRACE --- [^(]\\S* -- .*]$");

    @Test
    void gcBytesAndTraceAbortsOnMetricsMatchTheWorkloadAndJitV() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        try (RunningAgent agent = RunningAgent.start(Map.of(), "--exe", "luajit", "--hz", "199", "--interval",
                "1s")) {
            Path jv = Files.createTempFile("moonwalk-jv", ".txt");
            Process lj = new ProcessBuilder("luajit", "-jv",
                    Moonwalk.ROOT.resolve("testdata/lua/trace_aborts.lua").toString(), "20000")
                    .redirectError(jv.toFile()).start();
            try {
                double countKb = -1;
                BufferedReader out = new BufferedReader(new InputStreamReader(lj.getInputStream(),
                        StandardCharsets.UTF_8));
                for (String l; (l = out.readLine()) != null && !l.equals("READY"); ) {
                    if (l.startsWith("COUNT ")) {
                        countKb = Double.parseDouble(l.substring(6));
                    }
                }
                assertThat(countKb).as("the workload printed its heap and READY").isPositive();
                long truthAborts = Files.readAllLines(jv).stream().filter(l -> ROOT_ABORT.matcher(l).matches())
                        .count();
                String pid = "pid=\"" + lj.pid() + "\"";
                double gcBytes = -1;
                double aborts = -1;
                String metrics = "";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                // the VM is re-read every second: wait for a read after the workload stopped changing
                while (System.nanoTime() < deadline && (aborts != truthAborts
                        || Math.abs(gcBytes / 1024 - countKb) > 0.05 * countKb)) {
                    Thread.sleep(500);
                    metrics = agent.get("/metrics");
                    gcBytes = value(metrics, "moonwalk_luajit_gc_bytes", pid);
                    aborts = value(metrics, "moonwalk_luajit_vm_trace_aborts_total", pid);
                }
                double leaving = value(metrics, "moonwalk_luajit_trace_aborts_total",
                        "reason=\"leaving loop in root trace\"");
                System.out.printf("agent metrics for pid %d: gc %.1f KB vs collectgarbage(\"count\") %.1f KB (%+.3f%%);"
                                + " trace aborts %.0f vs jit.v %d; host-wide 'leaving loop in root trace' %.0f%n",
                        lj.pid(), gcBytes / 1024, countKb, 100 * (gcBytes / 1024 - countKb) / countKb, aborts,
                        truthAborts, leaving);
                assertThat(gcBytes / 1024).as("moonwalk_luajit_gc_bytes vs collectgarbage(\"count\")")
                        .isBetween(countKb * 0.95, countKb * 1.05);
                assertThat(aborts).as("moonwalk_luajit_vm_trace_aborts_total vs jit.v root aborts")
                        .isEqualTo((double) truthAborts);
                // 20 inner loops x 11 aborts each in this VM; other LuaJIT processes on the host may add
                assertThat(leaving).isGreaterThanOrEqualTo(220);
                assertThat(value(metrics, "moonwalk_luajit_gc_threshold_bytes", pid)).isPositive();
            } finally {
                lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                Files.deleteIfExists(jv);
            }
        }
    }

    @Test
    void recordPrintsEachVmsGcHeapAndTraceAbortsWithTheirTopSites() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        Path jv = Files.createTempFile("moonwalk-jv", ".txt");
        // 3000 rounds of aborts (well under a second), then a compilable loop that keeps it sampled without
        // further aborts through the recording
        Process lj = new ProcessBuilder("luajit", "-jv", Moonwalk.ROOT.resolve("testdata/lua/trace_aborts.lua")
                .toString(), "3000", "20").redirectError(jv.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            Moonwalk.Result r = Moonwalk.run(java.time.Duration.ofSeconds(60), "record", "--pid",
                    String.valueOf(lj.pid()), "--duration", "4s", "--output",
                    Files.createTempFile("moonwalk-diag", ".folded").toString());
            long truthAborts = Files.readAllLines(jv).stream().filter(l -> ROOT_ABORT.matcher(l).matches()).count();
            String gc = r.stderr().lines().filter(l -> l.startsWith("  luajit gc pid " + lj.pid() + " vm"))
                    .findFirst().orElse(null);
            String aborts = r.stderr().lines().filter(l -> l.startsWith("  luajit trace aborts pid " + lj.pid()
                    + " vm")).findFirst().orElse(null);
            String jit = r.stderr().lines().filter(l -> l.startsWith("  luajit jit pid " + lj.pid() + " vm"))
                    .findFirst().orElse(null);
            System.out.printf("record summary:%n%s%n%s%n%s%njit.v root aborts: %d%n", jit, gc, aborts, truthAborts);
            assertThat(jit).as("traces compiled line in %s", r.stderr()).matches("  luajit jit pid \\d+ vm\\d+: \\d+"
                    + " traces compiled \\([\\d.]+/s\\), \\d+ flushes \\([\\d.]+/s\\) in [\\d.]+ s tracked");
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(gc).as("GC heap line in %s", r.stderr()).matches(
                    "  luajit gc pid \\d+ vm\\d+: heap [1-9]\\d* KB, next step at \\d+ KB, phase [a-z]+");
            Matcher m = Pattern.compile("  luajit trace aborts pid \\d+ vm\\d+: (\\d+) \\(.*\\); top sites: (.*)")
                    .matcher(aborts == null ? "" : aborts);
            assertThat(m.matches()).as("trace abort line in %s", r.stderr()).isTrue();
            assertThat(Long.parseLong(m.group(1))).as("aborts in the record summary vs jit.v").isEqualTo(truthAborts);
            assertThat(m.group(2).split(", ")).hasSize(5).allSatisfy(site -> assertThat(site)
                    .matches("(function <\\S+/trace_aborts\\.lua:\\d+>|main chunk) \\(\\S+/trace_aborts\\.lua:\\d+\\)"
                            + " \\([^)]+\\) x\\d+( blacklisted)?"));
        } finally {
            lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            Files.deleteIfExists(jv);
        }
    }

    /** The value of the series {@code name{...}} whose labels contain {@code label}, -1 if absent. */
    static double value(String metrics, String name, String label) {
        Pattern p = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);
        Matcher m = p.matcher(metrics);
        while (m.find()) {
            if (m.group(1).contains(label)) {
                return Double.parseDouble(m.group(2));
            }
        }
        return -1;
    }
}
