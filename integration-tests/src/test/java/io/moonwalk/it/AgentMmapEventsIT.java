package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.export.otlp.OtlpValidator;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.PprofReader;
import io.moonwalk.testfixtures.SyscallCounts;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code moonwalk agent --mmap-events} with the local store on a LuaJIT process that keeps compiling into a tiny mcode
 * budget (testdata/lua/mcode_churn.lua, which starts its calls only once the agent and perf are attached and stays
 * alive after them: {@link GatedLuajit}): the per-process metric {@code moonwalk_luajit_mmap_calls_total{call,pid}}
 * equals what {@code perf stat} counts on the kernel's syscall tracepoints for the same calls; the windows' mmap_calls
 * profiles, exported over OTLP to a real gRPC receiver in the same requests as the CPU profiles and stored in the
 * store's mmap files beside the CPU windows, carry those calls under the Lua function that compiles; and the web view
 * on loopback serves them behind its profile toggle.
 */
class AgentMmapEventsIT {
    @BeforeAll
    static void requireRoot() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    private static boolean underCompile(String stack) {
        return List.of(stack.split(";")).stream().anyMatch(f -> f.startsWith("compile_one "));
    }

    @Test
    void metricsMatchPerfAndStoreWebViewAndOtlpCarryTheCallsUnderTheCompilingFunction() throws Exception {
        Path dir = Files.createDirectories(Moonwalk.WORK.resolve("agent-mmap-events"));
        Path store = Files.createTempDirectory(Moonwalk.WORK, "mmap-store");
        try (GatedLuajit lj = GatedLuajit.start(dir, "mcode_churn.lua", GatedLuajit.GO, "20000");
             ProfilesReceiver receiver = new ProfilesReceiver()) {
            String pid = Long.toString(lj.pid());
            receiver.startGrpc();
            SyscallCounts truth;
            Map<String, Double> metric = new HashMap<>();
            double storedWindowsMetric;
            try (RunningAgent agent = RunningAgent.start(Map.of(), "--pid", pid, "--hz", "99", "--interval", "1s",
                    "--interval-jitter", "0", "--mmap-events", "--store", "on", "--store-dir", store.toString(),
                    "--otlp-endpoint", receiver.grpcEndpoint(), "--otlp-metrics", "off")) {
                assertThat(agent.stderr()).contains("mmap events");
                GatedLuajit.Count perf = lj.count("perf");
                lj.go();
                assertThat(lj.awaitDone("compiled ")).as("the workload's own printout").isEqualTo("compiled 20000");
                truth = perf.stop();
                Thread.sleep(2500); // the windows of the churn close (1 s each)
                for (String call : GatedLuajit.MMAP_CALLS) {
                    metric.put(call, agent.metric("moonwalk_luajit_mmap_calls_total{call=\"" + call + "\",pid=\""
                            + pid + "\"}"));
                }

                // the web view: the toggle offers CPU and mmap calls (no off-CPU: not recorded), the mmap pages
                String index = agent.get("/?type=mmap");
                assertThat(index).contains("mmap calls timeline", "<b id=\"type-mmap\">", "\"unit\":\"calls/s\"",
                        "<th>calls</th>", "&amp;type=mmap\">flame graph</a>").doesNotContain("type-offcpu");
                assertThat(agent.get("/")).contains("<a id=\"type-mmap\" href=\"/?type=mmap\">", "<b id=\"type-cpu\">");
                long now = System.currentTimeMillis() + 1;
                HttpResponse<String> fg = agent.getResponse("/flamegraph?type=mmap&from=0&to=" + now + "&pid=" + pid);
                assertThat(fg.statusCode()).isEqualTo(200);
                assertThat(fg.body()).contains("\"sampleType\":\"mmap_calls\"", "compile_one", "\"type\":\"mmap\"",
                        "\"types\":[[\"cpu\",\"CPU\"],[\"mmap\",\"mmap calls\"]]");
                HttpResponse<String> off = agent.getResponse("/flamegraph?type=offcpu&from=0&to=" + now);
                assertThat(off.statusCode()).as("off-CPU is not recorded").isEqualTo(404);
                assertThat(off.body()).contains("--off-cpu");
                // the store's meters per kind
                storedWindowsMetric = agent.metric("moonwalk_store_windows{profile=\"mmap\"}");
                assertThat(agent.metric("moonwalk_store_windows{profile=\"cpu\"}")).isPositive();
                assertThat(agent.metric("moonwalk_store_limit_bytes{profile=\"mmap\"}")
                        + agent.metric("moonwalk_store_limit_bytes{profile=\"cpu\"}"))
                        .as("the kinds' bounds add up to --store-max-size (1 GiB)").isEqualTo(1024.0 * 1024 * 1024);
                agent.terminate(); // the last window goes to both sinks
                assertThat(agent.process.exitValue()).as(agent.stderr()).isZero();
            }

            // the store: mmap windows beside the CPU windows, their own index naming the sample type
            List<Path> mmapWindows;
            try (Stream<Path> files = Files.list(store)) {
                mmapWindows = files.filter(p -> p.getFileName().toString().matches("mmap-\\d{13}-\\d+\\.pb\\.gz"))
                        .sorted().toList();
            }
            assertThat(Files.readAllLines(store.resolve("index-mmap-v1.tsv")).getFirst())
                    .isEqualTo("moonwalk-store-index\t1\tmmap_calls\tcount");
            long stored = 0;
            long storedUnderCompile = 0;
            for (Path w : mmapWindows) {
                for (Profile.Entry e : PprofReader.read(w).entries()) {
                    if (e.process().pid() == lj.pid()) {
                        stored += e.count();
                        if (e.frames().stream().anyMatch(f -> f.label().startsWith("compile_one "))) {
                            storedUnderCompile += e.count();
                        }
                    }
                }
            }

            List<ExportProfilesServiceRequest> requests = new ArrayList<>();
            for (ProfilesReceiver.Received r : receiver.received) {
                requests.add(r.request());
                assertThat(OtlpValidator.validate(r.request())).as("receiver-side validation").isEmpty();
            }
            Map<String, Long> stacks = OtlpStacks.stacksOf(requests, lj.pid(), "mmap_calls");
            long total = stacks.values().stream().mapToLong(Long::longValue).sum();
            long underCompile = stacks.entrySet().stream().filter(e -> underCompile(e.getKey()))
                    .mapToLong(Map.Entry::getValue).sum();
            long calls = truth.calls().values().stream().mapToLong(Long::longValue).sum();
            System.out.printf("agent --mmap-events on the churning LuaJIT process: metric %s, perf stat %s; OTLP"
                            + " mmap_calls profiles: %d calls in %d stacks, %d (%.1f%%) under compile_one; store: %d"
                            + " mmap windows (metric %.0f before the last), %d calls, %d (%.1f%%) under compile_one%n",
                    metric, truth.calls(), total, stacks.size(), underCompile, 100.0 * underCompile / Math.max(1, total),
                    mmapWindows.size(), storedWindowsMetric, stored, storedUnderCompile,
                    100.0 * storedUnderCompile / Math.max(1, stored));
            assertThat(truth.calls("mprotect")).as("perf saw the churn").isGreaterThan(1000);
            for (String call : GatedLuajit.MMAP_CALLS) {
                assertThat(metric.get(call)).as(call + " calls: metric vs perf stat")
                        .isBetween(0.95 * truth.calls(call), 1.05 * truth.calls(call));
            }
            // the calls after the last walked one of a burst stay pending in the kernel (at most one interval's)
            assertThat((double) total).as("calls carried by the exported mmap_calls profiles vs perf")
                    .isBetween(0.95 * calls, 1.0 * calls);
            assertThat(100.0 * underCompile / total).as("share of the calls under compile_one").isGreaterThanOrEqualTo(80);
            assertThat(mmapWindows).as("mmap windows in the store").isNotEmpty();
            assertThat(storedWindowsMetric).as("moonwalk_store_windows{profile=mmap}").isPositive();
            assertThat(stored).as("the store keeps the same calls as OTLP carries (every window to both sinks)")
                    .isEqualTo(total);
            assertThat(storedUnderCompile).isEqualTo(underCompile);
        }
    }
}
