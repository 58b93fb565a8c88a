package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse;
import io.opentelemetry.proto.collector.profiles.v1development.ProfilesServiceGrpc;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code moonwalk agent} against one real gRPC collector stand-in serving both the profiles and the
 * metrics service: with only {@code OTEL_EXPORTER_OTLP_ENDPOINT} set, the agent pushes its own
 * metrics there every {@code --metrics-interval} while it profiles a LuaJIT workload.
 */
class AgentMetricsIT {

    @Test
    void pushesItsMetricsOverGrpcEverySecondWithGrowingSampleCounts() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        List<ExportMetricsServiceRequest> metrics = new CopyOnWriteArrayList<>();
        List<Long> arrivals = new CopyOnWriteArrayList<>();
        List<ExportProfilesServiceRequest> profiles = new CopyOnWriteArrayList<>();
        int port = ProfilesReceiver.freePort();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port),
                        InsecureServerCredentials.create())
                .maxInboundMessageSize(64 << 20)
                .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
                    @Override
                    public void export(ExportMetricsServiceRequest r, StreamObserver<ExportMetricsServiceResponse> out) {
                        metrics.add(r);
                        arrivals.add(System.nanoTime());
                        out.onNext(ExportMetricsServiceResponse.getDefaultInstance());
                        out.onCompleted();
                    }
                })
                .addService(new ProfilesServiceGrpc.ProfilesServiceImplBase() {
                    @Override
                    public void export(ExportProfilesServiceRequest r, StreamObserver<ExportProfilesServiceResponse> out) {
                        profiles.add(r);
                        out.onNext(ExportProfilesServiceResponse.getDefaultInstance());
                        out.onCompleted();
                    }
                }).build().start();
        int sampling;
        Process luajit = new ProcessBuilder("luajit", "-joff", "-e", AgentIT.LUA_LOOP).start();
        try {
            Map<String, String> env = Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + port,
                    "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=it", "K8S_NODE_NAME", "node-m");
            try (RunningAgent agent = RunningAgent.start(env, "--pid", String.valueOf(luajit.pid()), "--hz", "99",
                    "--interval", "1s", "--metrics-interval", "1s")) {
                assertThat(agent.stderr()).contains("pushing metrics (grpc) every 1s to http://127.0.0.1:" + port);
                // start() returns once the agent announced that it samples; the push exporter starts
                // before the BPF load, so on a loaded machine the first pushes may precede the attach
                sampling = metrics.size();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while ((metrics.size() < 5 || metrics.size() < sampling + 2) && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(metrics).as("metrics pushes within 30 s").hasSizeGreaterThanOrEqualTo(Math.max(5, sampling + 2));
                double scraped = agent.metric("moonwalk_metrics_export_requests_total{result=\"sent\"}");
                assertThat(scraped).as("the push counts itself").isGreaterThanOrEqualTo(1);
                // the unwinder's side, scraped from /metrics while the agent profiles the LuaJIT process
                double pidMaps = agent.metric("moonwalk_bpf_map_entries{map=\"pid_maps\"}");
                double entries = agent.metric("moonwalk_bpf_map_entries{map=\"unwind_entries\"}");
                double builds = agent.metric("moonwalk_unwind_tables_builds_total");
                double named = agent.metric("moonwalk_lua_frames_total{result=\"named\"}");
                double invalid = agent.metric("moonwalk_lua_frames_total{result=\"invalid\"}");
                System.out.printf("agent /metrics: pid_maps %.0f/%.0f, unwind_entries %.0f, %.0f table builds,"
                        + " %.0f LuaJIT binaries, Lua frames named %.0f invalid %.0f, prefetched %.0f%n", pidMaps,
                        agent.metric("moonwalk_bpf_map_capacity{map=\"pid_maps\"}"), entries, builds,
                        agent.metric("moonwalk_luajit_binaries_detected_total"), named, invalid,
                        agent.metric("moonwalk_lua_proto_prefetch_total{result=\"read\"}"));
                assertThat(pidMaps).as("pid_maps fill").isPositive();
                assertThat(entries).as("unwind_entries fill").isPositive()
                        .isEqualTo(agent.metric("moonwalk_unwind_tables_live_entries"));
                assertThat(builds).as("unwind tables built").isPositive();
                assertThat(agent.metric("moonwalk_bpf_map_drops_total{map=\"pid_maps\"}")).isZero();
                assertThat(agent.metric("moonwalk_luajit_binaries_detected_total")).isEqualTo(1);
                assertThat(named).as("Lua frames named").isPositive();
                assertThat(invalid).isZero();
                checkScrape(agent.get("/metrics"));
                agent.terminate();
            }
            // pushes come every second: the steady gaps (after JVM warm-up) are close to 1 s
            List<Long> gaps = new java.util.ArrayList<>();
            for (int i = 2; i < arrivals.size() - 1; i++) {
                gaps.add(TimeUnit.NANOSECONDS.toMillis(arrivals.get(i) - arrivals.get(i - 1)));
            }
            gaps.sort(null);
            long median = gaps.get(gaps.size() / 2);
            System.out.printf("agent metrics: %d pushes, median gap %d ms, %d metrics in the last, %d profile requests%n",
                    metrics.size(), median, metricCount(metrics.getLast()), profiles.size());
            assertThat(median).isBetween(700L, 1500L);

            ResourceMetrics rm = metrics.getLast().getResourceMetrics(0);
            Map<String, String> resource = attributes(rm.getResource().getAttributesList());
            assertThat(resource).containsEntry("deployment.environment", "it").containsEntry("k8s.node.name", "node-m")
                    .containsEntry("service.name", "moonwalk").containsKey("host.name");
            assertThat(resource.get("host.name")).isNotBlank();
            ScopeMetrics sm = rm.getScopeMetrics(0);
            assertThat(sm.getScope().getName()).isEqualTo("moonwalk");

            double first = samples(metrics.get(1));
            double last = samples(metrics.getLast());
            assertThat(last).as("moonwalk.samples grows between pushes").isGreaterThan(first).isGreaterThan(0);
            Metric kernel = metric(metrics.getLast(), "moonwalk.kernel.samples");
            assertThat(kernel.getSum().getIsMonotonic()).isTrue();
            assertThat(kernel.getSum().getDataPoints(0).getAsDouble()).isGreaterThan(0);
            // the second push after the start line was collected while the programs were attached
            Metric attached = metric(metrics.get(sampling + 1), "moonwalk.sampler.attached");
            assertThat(attached.getDataCase()).isEqualTo(Metric.DataCase.GAUGE);
            assertThat(attached.getGauge().getDataPoints(0).getAsDouble()).isEqualTo(1.0);
            Metric windows = metric(metrics.getLast(), "moonwalk.windows");
            Map<String, Double> byOutcome = new HashMap<>();
            for (NumberDataPoint p : windows.getSum().getDataPointsList()) {
                byOutcome.put(attributes(p.getAttributesList()).get("outcome"), p.getAsDouble());
            }
            assertThat(byOutcome.get("delivered")).isGreaterThan(0);
            assertThat(byOutcome).containsKey("dropped");
            Metric duration = metric(metrics.getLast(), "moonwalk.window.duration");
            assertThat(duration.getDataCase()).isEqualTo(Metric.DataCase.HISTOGRAM);
            assertThat(duration.getUnit()).isEqualTo("s");
            assertThat(duration.getHistogram().getDataPoints(0).getCount()).isGreaterThan(0);
            assertThat(duration.getHistogram().getDataPoints(0).getSum()).isGreaterThan(0.5);
            Metric exports = metric(metrics.getLast(), "moonwalk.export.requests");
            assertThat(exports.getSum().getAggregationTemporality())
                    .isEqualTo(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
            assertThat(profiles).as("profiles still go to the same collector").isNotEmpty();
        } finally {
            luajit.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static double samples(ExportMetricsServiceRequest r) {
        Metric m = metric(r, "moonwalk.samples");
        assertThat(m.getDataCase()).isEqualTo(Metric.DataCase.SUM);
        return m.getSum().getDataPoints(0).getAsDouble();
    }

    private static Metric metric(ExportMetricsServiceRequest r, String name) {
        for (ResourceMetrics rm : r.getResourceMetricsList()) {
            for (ScopeMetrics sm : rm.getScopeMetricsList()) {
                for (Metric m : sm.getMetricsList()) {
                    if (m.getName().equals(name)) {
                        return m;
                    }
                }
            }
        }
        throw new AssertionError("no metric " + name + " in the push");
    }

    private static int metricCount(ExportMetricsServiceRequest r) {
        return r.getResourceMetrics(0).getScopeMetrics(0).getMetricsCount();
    }

    private static Map<String, String> attributes(List<KeyValue> kvs) {
        Map<String, String> out = new HashMap<>();
        for (KeyValue kv : kvs) {
            out.put(kv.getKey(), kv.getValue().getStringValue());
        }
        return out;
    }

    /** An address-like label value: 8+ hex digits, with or without 0x (a pid or a count has no hex letters). */
    private static final java.util.regex.Pattern ADDRESS = java.util.regex.Pattern.compile(
            "(?i)(0x[0-9a-f]{4,}|[0-9a-f]*[a-f][0-9a-f]*)");
    private static final java.util.regex.Pattern LABEL = java.util.regex.Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /**
     * The scrape is valid Prometheus text (promtool, from scripts/bootstrap), and no label value is a memory
     * address: the LuaJIT VM label is the samples' {@code vmN} id, not the global_State address.
     */
    private static void checkScrape(String scrape) throws Exception {
        Path promtool = Path.of(System.getenv().getOrDefault("MOONWALK_PROMTOOL", "/var/cache/moonwalk-tools/promtool"));
        assertThat(promtool).as("promtool (scripts/bootstrap extracts it from Debian's prometheus package)").isExecutable();
        Path file = Files.createTempFile(Moonwalk.WORK, "scrape", ".txt");
        Files.writeString(file, scrape);
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectInput(file.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("promtool check metrics: %s", out).isZero();
        int values = 0;
        List<String> vms = new java.util.ArrayList<>();
        for (String line : scrape.lines().filter(l -> !l.startsWith("#")).toList()) {
            int brace = line.indexOf('{');
            if (brace < 0) {
                continue;
            }
            java.util.regex.Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
            while (m.find()) {
                values++;
                String value = m.group(2);
                assertThat(ADDRESS.matcher(value).matches() && value.length() >= 8)
                        .as("label %s=\"%s\" looks like a memory address (%s)", m.group(1), value, line).isFalse();
                if (line.startsWith("moonwalk_luajit_traces{") && m.group(1).equals("vm")) {
                    vms.add(value);
                }
            }
        }
        System.out.printf("scrape: promtool ok, %d label values, none address-like; luajit vm labels %s%n", values, vms);
        assertThat(vms).as("the LuaJIT VM's health series").isNotEmpty().allMatch(v -> v.matches("vm[0-9]+"));
    }
}
