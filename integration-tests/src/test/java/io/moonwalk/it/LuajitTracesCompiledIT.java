package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code moonwalk agent} while {@code testdata/lua/mcode_storm.lua steady} compiles 150 new traces a second after
 * the agent has read its VM: {@code moonwalk_luajit_traces_compiled_total} equals the count of "stop" trace events
 * LuaJIT itself reported (jit.attach), and no flush is counted.
 */
class LuajitTracesCompiledIT {
    @Test
    void tracesCompiledOnMetricsEqualLuajitsOwnCount() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        try (RunningAgent agent = RunningAgent.start(Map.of(), "--exe", "luajit", "--hz", "199", "--interval",
                "1s")) {
            // 12 s of interpreted code before the traces (the agent finds and reads the VM meanwhile)
            Process lj = new ProcessBuilder("luajit", Moonwalk.ROOT.resolve("testdata/lua/mcode_storm.lua").toString(),
                    "steady", "4", "0", "150", "12").start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(lj.getInputStream(),
                        StandardCharsets.UTF_8));
                OutputStream in = lj.getOutputStream();
                String pid = "pid=\"" + lj.pid() + "\"";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(11);
                double compiled = -1;
                while (compiled < 0 && System.nanoTime() < deadline) {
                    Thread.sleep(500);
                    compiled = LuajitDiagnosticsIT.value(agent.get("/metrics"), "moonwalk_luajit_traces_compiled_total",
                            pid);
                }
                assertThat(compiled).as("the agent read the VM while it ran interpreted code").isZero();
                in.write("GO\n".getBytes(StandardCharsets.UTF_8)); // read after the warm-up ends
                in.flush();
                String end = null;
                for (String l; (l = out.readLine()) != null; ) {
                    if (l.startsWith("END ")) {
                        end = l;
                        break;
                    }
                }
                assertThat(end).as("the workload's END line").isNotNull();
                Matcher m = Pattern.compile("^END \\S+ traces (\\d+) aborts \\d+ flushes (\\d+) .*").matcher(end);
                assertThat(m.matches()).as(end).isTrue();
                long truth = Long.parseLong(m.group(1));
                // the workload now waits on stdin: its traces stay; the VM is re-read every second
                double flushes = -1;
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                do {
                    Thread.sleep(500);
                    String metrics = agent.get("/metrics");
                    compiled = LuajitDiagnosticsIT.value(metrics, "moonwalk_luajit_traces_compiled_total", pid);
                    flushes = LuajitDiagnosticsIT.value(metrics, "moonwalk_luajit_flushes_total", pid);
                } while (compiled != truth && System.nanoTime() < deadline);
                System.out.printf("traces compiled by pid %d: moonwalk_luajit_traces_compiled_total %.0f, LuaJIT's"
                        + " own count %d (%s); flushes %.0f (LuaJIT %s)%n", lj.pid(), compiled, truth, end, flushes,
                        m.group(2));
                assertThat(truth).as("about 150 traces a second for 4 s").isGreaterThan(450);
                assertThat(compiled).isEqualTo((double) truth);
                assertThat(flushes).isZero();
            } finally {
                lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
