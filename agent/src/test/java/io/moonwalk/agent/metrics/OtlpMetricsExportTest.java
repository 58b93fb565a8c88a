package io.moonwalk.agent.metrics;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.moonwalk.agent.export.otlp.OtlpConfig;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Pushes a small real Prometheus registry to a real grpc-java {@code MetricsService} and a real JDK
 * HTTP server on loopback and decodes what arrives.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@Tag("pure")
class OtlpMetricsExportTest {
    private static final long START = 1_700_000_000_000_000_000L;

    private final List<ExportMetricsServiceRequest> grpcReceived = new CopyOnWriteArrayList<>();
    private final List<Metadata> grpcHeaders = new CopyOnWriteArrayList<>();
    private final List<ExportMetricsServiceRequest> httpReceived = new CopyOnWriteArrayList<>();
    private final List<String> httpPaths = new CopyOnWriteArrayList<>();
    private volatile Status grpcFailure;
    private volatile long rejectPoints;
    private Server grpc;
    private HttpServer http;

    private PrometheusMeterRegistry registry;
    private Counter requests;
    private final AtomicLong bytes = new AtomicLong();
    private Timer latency;

    @BeforeEach
    void start() throws Exception {
        MetricsServiceGrpc.MetricsServiceImplBase service = new MetricsServiceGrpc.MetricsServiceImplBase() {
            @Override
            public void export(ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> out) {
                Status failure = grpcFailure;
                if (failure != null) {
                    out.onError(failure.asRuntimeException());
                    return;
                }
                grpcReceived.add(request);
                ExportMetricsServiceResponse.Builder r = ExportMetricsServiceResponse.newBuilder();
                if (rejectPoints > 0) {
                    r.setPartialSuccess(ExportMetricsPartialSuccess.newBuilder().setRejectedDataPoints(rejectPoints)
                            .setErrorMessage("test rejects some"));
                }
                out.onNext(r.build());
                out.onCompleted();
            }
        };
        ServerInterceptor recordHeaders = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata md, ServerCallHandler<Q, R> next) {
                grpcHeaders.add(md);
                return next.startCall(call, md);
            }
        };
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
                .addService(ServerInterceptors.intercept(service, recordHeaders)).build().start();

        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        http.createContext("/", ex -> {
            try (ex) {
                httpPaths.add(ex.getRequestURI().getPath() + " " + ex.getRequestHeaders().getFirst("Content-Type"));
                InputStream body = ex.getRequestBody();
                if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
                    body = new GZIPInputStream(body);
                }
                httpReceived.add(ExportMetricsServiceRequest.parseFrom(body.readAllBytes()));
                byte[] resp = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
                ex.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                ex.sendResponseHeaders(200, resp.length == 0 ? -1 : resp.length);
            }
        });
        http.start();

        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        requests = Counter.builder("test.requests").tag("method", "get").description("requests served").register(registry);
        FunctionCounter.builder("test.bytes", bytes, AtomicLong::get).baseUnit("bytes").register(registry);
        Gauge.builder("test.queue", () -> 7).tag("queue", "a").register(registry);
        Gauge.builder("test.queue", () -> 9).tag("queue", "b").register(registry);
        Gauge.builder("test.broken", () -> Double.NaN).register(registry);
        latency = Timer.builder("test.latency").register(registry);
        Timer slo = Timer.builder("test.slo").serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(100))
                .register(registry);
        DistributionSummary size = DistributionSummary.builder("test.size").baseUnit("bytes").register(registry);
        Timer quantiles = Timer.builder("test.quantiles").publishPercentiles(0.5).register(registry);

        requests.increment(3);
        bytes.set(4096);
        latency.record(10, TimeUnit.MILLISECONDS);
        latency.record(30, TimeUnit.MILLISECONDS);
        slo.record(5, TimeUnit.MILLISECONDS);
        slo.record(50, TimeUnit.MILLISECONDS);
        slo.record(50, TimeUnit.MILLISECONDS);
        slo.record(500, TimeUnit.MILLISECONDS);
        size.record(100);
        size.record(300);
        quantiles.record(20, TimeUnit.MILLISECONDS);
    }

    @AfterEach
    void stop() {
        grpc.shutdownNow();
        http.stop(0);
    }

    private OtlpMetricsExporter exporter(Map<String, String> env, Duration interval) {
        OtlpConfig config = OtlpConfig.fromEnvironment(env, OtlpConfig.Signal.METRICS);
        Map<String, String> resource = new LinkedHashMap<>(config.resourceAttributes());
        resource.put("host.name", "test-host");
        return new OtlpMetricsExporter(registry, new MicrometerMetricProducer(registry, "1.2.3", START, Clock.systemUTC()),
                SdkMetricExporters.create(config), interval, config.endpoint().toString(), config.timeout(), resource);
    }

    private static void await(List<?> list, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (list.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(list).as("pushes received").hasSizeGreaterThanOrEqualTo(n);
    }

    @Test
    void grpcPushesCarryEveryMeterWithTypeValueAttributesAndGrowingCumulativeSums() throws Exception {
        Map<String, String> env = Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:" + grpc.getPort(),
                "OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=t1", "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip",
                "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test", "OTEL_SERVICE_NAME", "svc");
        long t0 = System.nanoTime();
        OtlpMetricsExporter e = exporter(env, Duration.ofMillis(300));
        try (e) {
            await(grpcReceived, 1);
            long firstMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(firstMillis).as("the first push waits one interval").isGreaterThanOrEqualTo(250);
            requests.increment(2);
            bytes.addAndGet(1000);
            latency.record(60, TimeUnit.MILLISECONDS);
            await(grpcReceived, 2);
        }
        // close() pushes the final values once more
        assertThat(pushes("sent")).isEqualTo(grpcReceived.size()).isGreaterThanOrEqualTo(3);
        assertThat(pushes("failed")).as("failed pushes, last error: %s", e.lastError()).isZero();
        ExportMetricsServiceRequest first = grpcReceived.getFirst();
        ExportMetricsServiceRequest last = grpcReceived.getLast();
        assertThat(grpcHeaders.getFirst().get(Metadata.Key.of("x-tenant", Metadata.ASCII_STRING_MARSHALLER)))
                .isEqualTo("t1");

        ResourceMetrics rm = first.getResourceMetrics(0);
        assertThat(first.getResourceMetricsCount()).isEqualTo(1);
        assertThat(attributes(rm.getResource().getAttributesList())).containsEntry("host.name", "test-host")
                .containsEntry("service.name", "svc").containsEntry("deployment.environment", "test");
        assertThat(rm.getScopeMetricsCount()).as("scopes of the first push: %s", rm.getScopeMetricsList().stream()
                .map(sm -> sm.getScope().getName() + " " + sm.getScope().getVersion() + " "
                        + sm.getMetricsList().stream().map(Metric::getName).toList()).toList()).isEqualTo(1);
        assertThat(grpcReceived).as("every push carries the moonwalk scope only (no otel.sdk.* self-metrics)")
                .allSatisfy(r -> assertThat(r.getResourceMetrics(0).getScopeMetricsList())
                        .extracting(sm -> sm.getScope().getName()).containsExactly("moonwalk"));
        assertThat(rm.getScopeMetrics(0).getScope().getName()).isEqualTo("moonwalk");
        assertThat(rm.getScopeMetrics(0).getScope().getVersion()).isEqualTo("1.2.3");

        Map<String, Metric> m1 = metrics(first);
        Metric req = m1.get("test.requests");
        assertThat(req.getDataCase()).isEqualTo(Metric.DataCase.SUM);
        assertThat(req.getDescription()).isEqualTo("requests served");
        assertThat(req.getSum().getIsMonotonic()).isTrue();
        assertThat(req.getSum().getAggregationTemporality())
                .isEqualTo(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
        NumberDataPoint rp = req.getSum().getDataPoints(0);
        assertThat(rp.getAsDouble()).isEqualTo(3.0);
        assertThat(attributes(rp.getAttributesList())).isEqualTo(Map.of("method", "get"));
        assertThat(rp.getStartTimeUnixNano()).isEqualTo(START);
        assertThat(rp.getTimeUnixNano()).isGreaterThan(START);

        Metric b = m1.get("test.bytes");
        assertThat(b.getDataCase()).isEqualTo(Metric.DataCase.SUM);
        assertThat(b.getUnit()).isEqualTo("By");
        assertThat(b.getSum().getDataPoints(0).getAsDouble()).isEqualTo(4096.0);

        Metric q = m1.get("test.queue");
        assertThat(q.getDataCase()).isEqualTo(Metric.DataCase.GAUGE);
        Map<String, Double> byQueue = new HashMap<>();
        for (NumberDataPoint p : q.getGauge().getDataPointsList()) {
            byQueue.put(attributes(p.getAttributesList()).get("queue"), p.getAsDouble());
        }
        assertThat(byQueue).isEqualTo(Map.of("a", 7.0, "b", 9.0));
        assertThat(m1).as("a NaN gauge is left out").doesNotContainKey("test.broken");

        Metric lat = m1.get("test.latency");
        assertThat(lat.getDataCase()).isEqualTo(Metric.DataCase.HISTOGRAM);
        assertThat(lat.getUnit()).isEqualTo("s");
        assertThat(lat.getHistogram().getAggregationTemporality())
                .isEqualTo(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
        HistogramDataPoint lp = lat.getHistogram().getDataPoints(0);
        assertThat(lp.getCount()).isEqualTo(2);
        assertThat(lp.getSum()).isCloseTo(0.040, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(lp.getExplicitBoundsCount()).isZero();
        assertThat(lp.getBucketCountsList()).as("no published buckets: one bucket holding every value")
                .containsExactly(2L);

        HistogramDataPoint sp = m1.get("test.slo").getHistogram().getDataPoints(0);
        assertThat(sp.getExplicitBoundsList()).containsExactly(0.010, 0.100);
        assertThat(sp.getBucketCountsList()).as("per-bucket counts with overflow: 5ms | 50ms 50ms | 500ms")
                .containsExactly(1L, 2L, 1L);
        assertThat(sp.getCount()).isEqualTo(4);

        Metric size = m1.get("test.size");
        assertThat(size.getDataCase()).isEqualTo(Metric.DataCase.HISTOGRAM);
        assertThat(size.getUnit()).isEqualTo("By");
        assertThat(size.getHistogram().getDataPoints(0).getCount()).isEqualTo(2);
        assertThat(size.getHistogram().getDataPoints(0).getSum()).isEqualTo(400.0);

        Metric quant = m1.get("test.quantiles");
        assertThat(quant.getDataCase()).isEqualTo(Metric.DataCase.SUMMARY);
        SummaryDataPoint qp = quant.getSummary().getDataPoints(0);
        assertThat(qp.getCount()).isEqualTo(1);
        assertThat(qp.getQuantileValuesList()).hasSize(1);
        assertThat(qp.getQuantileValues(0).getQuantile()).isEqualTo(0.5);
        assertThat(qp.getQuantileValues(0).getValue()).isBetween(0.015, 0.025);

        Map<String, Metric> m2 = metrics(last);
        assertThat(m2.get("test.requests").getSum().getDataPoints(0).getAsDouble()).as("cumulative sum grows")
                .isEqualTo(5.0);
        assertThat(m2.get("test.bytes").getSum().getDataPoints(0).getAsDouble()).isEqualTo(5096.0);
        assertThat(m2.get("test.latency").getHistogram().getDataPoints(0).getCount()).isEqualTo(3);
        assertThat(m2.get("test.requests").getSum().getDataPoints(0).getStartTimeUnixNano())
                .as("start time fixed").isEqualTo(START);
        assertThat(m2.get("test.requests").getSum().getDataPoints(0).getTimeUnixNano())
                .isGreaterThan(m1.get("test.requests").getSum().getDataPoints(0).getTimeUnixNano());
        assertThat(m2).as("the exporter's own meters are pushed too").containsKey("moonwalk.metrics.export.requests");
    }

    @Test
    void httpPushGoesToV1MetricsWithGzipAndCarriesTheSameMeters() throws Exception {
        Map<String, String> env = Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + http.getAddress().getPort(),
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
        try (OtlpMetricsExporter e = exporter(env, Duration.ofMillis(200))) {
            await(httpReceived, 1);
            requests.increment();
            await(httpReceived, 2);
        }
        assertThat(httpPaths.getFirst()).isEqualTo("/v1/metrics application/x-protobuf");
        Map<String, Metric> m1 = metrics(httpReceived.getFirst());
        assertThat(m1.keySet()).contains("test.requests", "test.bytes", "test.queue", "test.latency", "test.slo",
                "test.size", "test.quantiles");
        assertThat(m1.get("test.requests").getSum().getDataPoints(0).getAsDouble()).isEqualTo(3.0);
        assertThat(metrics(httpReceived.getLast()).get("test.requests").getSum().getDataPoints(0).getAsDouble())
                .isGreaterThanOrEqualTo(4.0);
    }

    @Test
    void failuresAreCountedAndAPartialSuccessCountsAsSent() throws Exception {
        Map<String, String> env = Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:" + grpc.getPort());
        try (OtlpMetricsExporter e = exporter(env, Duration.ofSeconds(60))) {
            grpcFailure = Status.UNAVAILABLE.withDescription("collector restarting");
            assertThat(e.pushNow()).isFalse();
            assertThat(e.pushNow()).isFalse();
            assertThat(pushes("failed")).isEqualTo(2);
            assertThat(e.lastError()).contains("UNAVAILABLE").contains("collector restarting");
            grpcFailure = null;
            rejectPoints = 3;
            assertThat(e.pushNow()).isTrue();
            assertThat(pushes("sent")).isEqualTo(1);
            assertThat(grpcReceived).hasSize(1);
            assertThat(registry.scrape()).contains("moonwalk_metrics_export_requests_total{result=\"failed\"} 2.0")
                    .contains("moonwalk_metrics_export_requests_total{result=\"sent\"} 1.0");
        }
    }

    @Test
    void aReceiverThatIsDownCostsOneFailedPushNotAHang() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Map<String, String> env = Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:" + port,
                "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "2000");
        try (OtlpMetricsExporter e = exporter(env, Duration.ofSeconds(60))) {
            long t0 = System.nanoTime();
            assertThat(e.pushNow()).isFalse();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000);
            assertThat(pushes("failed")).isEqualTo(1);
        }
    }

    /** The exporter's own count of pushes with this result, as Prometheus and OTLP see it. */
    private long pushes(String result) {
        return (long) registry.get("moonwalk.metrics.export.requests").tag("result", result).functionCounter().count();
    }

    static Map<String, Metric> metrics(ExportMetricsServiceRequest r) {
        Map<String, Metric> out = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (ResourceMetrics rm : r.getResourceMetricsList()) {
            for (var sm : rm.getScopeMetricsList()) {
                for (Metric m : sm.getMetricsList()) {
                    names.add(m.getName());
                    out.put(m.getName(), m);
                }
            }
        }
        assertThat(names).as("one Metric per name").doesNotHaveDuplicates();
        return out;
    }

    static Map<String, String> attributes(List<KeyValue> kvs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (KeyValue kv : kvs) {
            out.put(kv.getKey(), kv.getValue().getStringValue());
        }
        return out;
    }
}
