package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.export.otlp.OtlpValidator;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code moonwalk agent --mmap-events} on a LuaJIT process that keeps compiling into a tiny mcode budget
 * (testdata/lua/mcode_churn.lua, which starts its calls only once the agent and perf are attached and stays alive
 * after them): the per-process metric {@code moonwalk_luajit_mmap_calls_total{call,pid}} equals what {@code perf stat}
 * counts on the kernel's syscall tracepoints for the same calls, and the windows' mmap_calls profiles, exported over
 * OTLP to a real gRPC receiver in the same requests as the CPU profiles, carry those calls under the Lua function
 * that compiles.
 */
class AgentMmapEventsIT {
    @BeforeAll
    static void requireRoot() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    @Test
    void metricsMatchPerfAndOtlpCarriesTheCallsUnderTheCompilingFunction() throws Exception {
        Path dir = Files.createDirectories(Moonwalk.WORK.resolve("agent-mmap-events"));
        Path go = dir.resolve("go");
        Files.deleteIfExists(go);
        Process lj = new ProcessBuilder("luajit", Moonwalk.ROOT.resolve("testdata/lua/mcode_churn.lua").toString(),
                go.toString(), "20000").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Process perf = null;
        String pid = Long.toString(lj.pid());
        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            Map<String, Long> truth = new HashMap<>();
            Map<String, Double> metric = new HashMap<>();
            try (RunningAgent agent = RunningAgent.start(Map.of(), "--pid", pid, "--hz", "99", "--interval", "1s",
                    "--interval-jitter", "0", "--mmap-events", "--store", "off", "--otlp-endpoint",
                    receiver.grpcEndpoint(), "--otlp-metrics", "off")) {
                assertThat(agent.stderr()).contains("mmap events");
                Path perfOut = dir.resolve("perf.csv");
                perf = new ProcessBuilder("perf", "stat", "-x,", "-o", perfOut.toString(), "-e",
                        "syscalls:sys_enter_mmap,syscalls:sys_enter_munmap,syscalls:sys_enter_mprotect", "-p", pid)
                        .redirectErrorStream(true).redirectOutput(dir.resolve("perf.log").toFile()).start();
                Thread.sleep(2000); // perf attaches its counters
                Files.writeString(go, "go\n");
                BufferedReader out = new BufferedReader(new InputStreamReader(lj.getInputStream(), StandardCharsets.UTF_8));
                assertThat(out.readLine()).as("the workload's own printout").isEqualTo("compiled 20000");
                Moonwalk.tool("kill", "-INT", Long.toString(perf.pid()));
                assertThat(perf.waitFor(30, TimeUnit.SECONDS)).as("perf stat ends").isTrue();
                for (String l : Files.readAllLines(perfOut)) {
                    String[] f = l.split(",");
                    if (f.length > 2 && f[2].startsWith("syscalls:sys_enter_")) {
                        truth.put(f[2].substring("syscalls:sys_enter_".length()), Long.parseLong(f[0]));
                    }
                }
                Thread.sleep(2500); // the windows of the churn close (1 s each)
                for (String call : List.of("mmap", "munmap", "mprotect")) {
                    metric.put(call, agent.metric("moonwalk_luajit_mmap_calls_total{call=\"" + call + "\",pid=\""
                            + pid + "\"}"));
                }
                agent.terminate(); // the last window goes out
                assertThat(agent.process.exitValue()).as(agent.stderr()).isZero();
            }
            List<ExportProfilesServiceRequest> requests = new ArrayList<>();
            for (ProfilesReceiver.Received r : receiver.received) {
                requests.add(r.request());
                assertThat(OtlpValidator.validate(r.request())).as("receiver-side validation").isEmpty();
            }
            Map<String, Long> stacks = OtlpStacks.stacksOf(requests, lj.pid(), "mmap_calls");
            long total = stacks.values().stream().mapToLong(Long::longValue).sum();
            long underCompile = stacks.entrySet().stream()
                    .filter(e -> List.of(e.getKey().split(";")).stream().anyMatch(f -> f.startsWith("compile_one ")))
                    .mapToLong(Map.Entry::getValue).sum();
            long calls = truth.values().stream().mapToLong(Long::longValue).sum();
            System.out.printf("agent --mmap-events on the churning LuaJIT process: metric %s, perf stat %s; OTLP"
                            + " mmap_calls profiles: %d calls in %d stacks, %d (%.1f%%) under compile_one%n", metric,
                    truth, total, stacks.size(), underCompile, 100.0 * underCompile / Math.max(1, total));
            assertThat(truth.get("mprotect")).as("perf saw the churn").isGreaterThan(1000);
            for (String call : List.of("mmap", "munmap", "mprotect")) {
                assertThat(metric.get(call)).as(call + " calls: metric vs perf stat")
                        .isBetween(0.95 * truth.get(call), 1.05 * truth.get(call));
            }
            // the calls after the last walked one of a burst stay pending in the kernel (at most one interval's)
            assertThat((double) total).as("calls carried by the exported mmap_calls profiles vs perf")
                    .isBetween(0.95 * calls, 1.0 * calls);
            assertThat(100.0 * underCompile / total).as("share of the calls under compile_one").isGreaterThanOrEqualTo(80);
        } finally {
            if (perf != null && perf.isAlive()) {
                perf.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            lj.getOutputStream().close();
            if (!lj.waitFor(10, TimeUnit.SECONDS)) {
                lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
