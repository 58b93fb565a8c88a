package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.export.otlp.OtlpValidator;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.PprofReader;
import io.moonwalk.frame.Frame;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code moonwalk agent --off-cpu} on a real nginx worker whose Lua handler blocks the event loop: every 10th request
 * runs {@code os.execute("sleep 0.02")} (testdata/nginx/offcpu.conf, which counts its sleeps and times each
 * os.execute call itself through the FFI: the ground truth). The agent stores each window's off-CPU profile next to
 * the CPU one, serves it in the web view's off-CPU pages and exports it over OTLP in the same requests as the CPU
 * profile, to a real gRPC receiver.
 */
class AgentOffCpuIT {
    @BeforeAll
    static void requireRoot() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    @Test
    void storedServedAndExportedOffCpuProfileHasTheBlockingStackAndItsTime() throws Exception {
        Path store = Files.createTempDirectory(Moonwalk.WORK, "offcpu-store");
        try (NginxServer nginx = BlockingHandler.start("agentoffcpu");
             ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            BlockingHandler.Stats stats;
            try (RunningAgent agent = RunningAgent.start(Map.of(), "--pid", Long.toString(nginx.worker), "--hz", "99",
                    "--interval", "1s", "--interval-jitter", "0", "--off-cpu", "1ms", "--store", "on", "--store-dir",
                    store.toString(), "--otlp-endpoint", receiver.grpcEndpoint(), "--otlp-metrics", "off")) {
                assertThat(agent.stderr()).contains("off-CPU waits of 1ms or more");
                // every sleep of the run happens while the probes are attached: the load starts after and ends before
                BlockingHandler.load(nginx, 5, Moonwalk.WORK.resolve("agent-offcpu-wrk.out"));
                stats = BlockingHandler.Stats.of(nginx);
                Thread.sleep(2500); // the windows of the load close (1 s each)

                // the web view: the off-CPU page of the store and the flame graph of the worker's blocked time
                String index = agent.get("/?type=offcpu");
                assertThat(index).contains("Off-CPU timeline (time blocked)", "<b id=\"type-offcpu\">",
                        "\"unit\":\"ms blocked/s\"", "time blocked", " ms</td>");
                assertThat(agent.get("/")).contains("<a id=\"type-offcpu\" href=\"/?type=offcpu\">");
                HttpResponse<String> fg = agent.getResponse("/flamegraph?type=offcpu&from=0&to="
                        + (System.currentTimeMillis() + 1) + "&pid=" + nginx.worker);
                assertThat(fg.statusCode()).isEqualTo(200);
                assertThat(fg.body()).contains("\"sampleType\":\"off_cpu\"", "\"sampleUnit\":\"nanoseconds\"",
                        "os.execute", "\"type\":\"offcpu\"");
                HttpResponse<String> cpuFg = agent.getResponse("/flamegraph?from=0&to="
                        + (System.currentTimeMillis() + 1) + "&pid=" + nginx.worker);
                assertThat(cpuFg.body()).contains("\"sampleType\":\"samples\"", "\"type\":\"cpu\"");
                agent.terminate(); // the last window goes to both sinks
                assertThat(agent.process.exitValue()).as(agent.stderr()).isZero();
            }
            long sleeps = stats.sleeps();
            double measuredSeconds = stats.executeSeconds();

            // the store: off-CPU windows beside the CPU windows, their own index naming the sample type
            List<Path> offWindows;
            try (Stream<Path> files = Files.list(store)) {
                offWindows = files.filter(p -> p.getFileName().toString().matches("offcpu-\\d{13}-\\d+\\.pb\\.gz"))
                        .sorted().toList();
            }
            assertThat(offWindows).as("off-CPU windows in the store").isNotEmpty();
            assertThat(Files.readAllLines(store.resolve("index-offcpu-v1.tsv")).getFirst())
                    .isEqualTo("moonwalk-store-index\t1\toff_cpu\tnanoseconds");
            long storedTotal = 0;
            long storedExecute = 0;
            long storedChain = 0;
            long storedSpawn = 0;
            Map<String, Long> otherExecute = new java.util.HashMap<>();
            for (Path w : offWindows) {
                for (Profile.Entry e : PprofReader.read(w).entries()) {
                    if (e.process().pid() != nginx.worker) {
                        continue;
                    }
                    List<String> labels = e.frames().stream().map(Frame::label).toList();
                    storedTotal += e.count();
                    if (labels.contains("os.execute")) {
                        storedExecute += e.count();
                        if (BlockingHandler.underWait4(labels)) {
                            storedChain += e.count();
                        } else if (BlockingHandler.underSpawn(labels)) {
                            storedSpawn += e.count();
                        } else {
                            otherExecute.merge(String.join(";", labels), e.count(), Long::sum);
                        }
                    }
                }
            }

            // OTLP: the off_cpu profile in the same requests as the CPU one, valid, the same blocked time as stored
            List<io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest> requests =
                    new ArrayList<>();
            for (ProfilesReceiver.Received r : receiver.received) {
                requests.add(r.request());
                assertThat(OtlpValidator.validate(r.request())).as("receiver-side validation").isEmpty();
            }
            long bothTypes = requests.stream().filter(r -> r.getResourceProfilesList().stream()
                    .anyMatch(rp -> rp.getScopeProfiles(0).getProfilesCount() == 2)).count();
            Map<String, Long> otlpOff = OtlpStacks.stacksOf(requests, nginx.worker, "off_cpu");
            Map<String, Long> otlpCpu = OtlpStacks.stacksOf(requests, nginx.worker, "samples");
            long otlpExecute = otlpOff.entrySet().stream()
                    .filter(e -> List.of(e.getKey().split(";")).contains("os.execute")).mapToLong(Map.Entry::getValue).sum();
            long otlpTotal = otlpOff.values().stream().mapToLong(Long::longValue).sum();

            System.out.printf("agent --off-cpu on the nginx worker: %d sleeps of 20 ms ran, the workload timed its"
                            + " os.execute calls at %.3f s; store: %d off-CPU windows, %.3f s blocked, %.3f s under"
                            + " os.execute, %.3f s under handler -> blocking -> os.execute -> wait4 -> do_wait, %.3f s"
                            + " under handler -> blocking -> os.execute -> posix_spawn -> clone3 (waiting for the"
                            + " child's exec);"
                            + " OTLP: %d requests (%d with a process's CPU and off-CPU profiles), %.3f s blocked,"
                            + " %.3f s under os.execute, %d CPU samples%n",
                    sleeps, measuredSeconds, offWindows.size(), storedTotal / 1e9, storedExecute / 1e9,
                    storedChain / 1e9, storedSpawn / 1e9, requests.size(), bothTypes, otlpTotal / 1e9, otlpExecute / 1e9,
                    otlpCpu.values().stream().mapToLong(Long::longValue).sum());
            otherExecute.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(4)
                    .forEach(e -> System.out.printf("  under os.execute, not through wait4: %.3f s %s%n",
                            e.getValue() / 1e9, e.getKey().length() > 400 ? "..." + e.getKey().substring(e.getKey().length() - 400) : e.getKey()));
            assertThat(sleeps).as("the workload slept (wrk reached it)").isGreaterThan(50);
            assertThat(storedExecute / 1e9).as("stored blocked time under os.execute vs the workload's own timing")
                    .isBetween(measuredSeconds * 0.9, measuredSeconds * 1.1);
            // os.execute blocks twice: in clone3 until the child execs (posix_spawn, CLONE_VFORK), then in wait4
            assertThat((double) storedChain + storedSpawn)
                    .as("os.execute's blocked time under handler -> blocking -> os.execute -> wait4 or clone3")
                    .isGreaterThanOrEqualTo(0.95 * storedExecute);
            assertThat((double) storedChain).as("most of it waiting for the child in wait4")
                    .isGreaterThanOrEqualTo(0.75 * storedExecute);
            assertThat(bothTypes).as("requests carrying a CPU and an off-CPU profile").isPositive();
            assertThat(otlpExecute).as("OTLP carries the same blocked time under os.execute as the store")
                    .isEqualTo(storedExecute);
            assertThat(otlpTotal).isEqualTo(storedTotal);
            assertThat(otlpCpu).as("the CPU profile is still exported").isNotEmpty();
        }
    }
}
