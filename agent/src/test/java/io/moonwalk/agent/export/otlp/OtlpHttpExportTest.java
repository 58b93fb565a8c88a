package io.moonwalk.agent.export.otlp;

import org.junit.jupiter.api.Tag;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.moonwalk.agent.profile.Profile;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesPartialSuccess;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Exports to a real JDK HttpServer on loopback. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
@Tag("pure")
class OtlpHttpExportTest {

    /** What one POST looked like on the wire. */
    record Received(String method, String path, String contentType, String contentEncoding, String tenant,
                    byte[] rawBody, ExportProfilesServiceRequest request) {
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile int failureStatus = 503;
    private volatile String retryAfter;
    private volatile byte[] okBody = new byte[0];
    private HttpServer server;
    private OtlpExporter exporter;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(2));
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        if (exporter != null) {
            exporter.close();
        }
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] raw = ex.getRequestBody().readAllBytes();
            if (failuresLeft.getAndDecrement() > 0) {
                if (retryAfter != null) {
                    ex.getResponseHeaders().add("Retry-After", retryAfter);
                }
                byte[] msg = "overloaded, try later".getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "text/plain");
                ex.sendResponseHeaders(failureStatus, msg.length);
                ex.getResponseBody().write(msg);
                return;
            }
            String encoding = ex.getRequestHeaders().getFirst("Content-Encoding");
            InputStream body = new java.io.ByteArrayInputStream(raw);
            if ("gzip".equals(encoding)) {
                body = new GZIPInputStream(body);
            }
            ExportProfilesServiceRequest req = ExportProfilesServiceRequest.parseFrom(body);
            received.add(new Received(ex.getRequestMethod(), ex.getRequestURI().getPath(),
                    ex.getRequestHeaders().getFirst("Content-Type"), encoding,
                    ex.getRequestHeaders().getFirst("X-Tenant"), raw, req));
            ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            ex.sendResponseHeaders(200, okBody.length == 0 ? -1 : okBody.length);
            if (okBody.length > 0) {
                ex.getResponseBody().write(okBody);
            }
        }
    }

    private OtlpExporter exporter(int port, String compression, long maxQueueBytes, RetryPolicy retry) {
        Map<String, String> env = new HashMap<>();
        env.put("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + port);
        env.put("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        env.put("OTEL_EXPORTER_OTLP_COMPRESSION", compression);
        env.put("OTEL_EXPORTER_OTLP_TIMEOUT", "3000");
        env.put("OTEL_EXPORTER_OTLP_HEADERS", "X-Tenant=team%20a");
        exporter = new OtlpExporter(OtlpSender.create(OtlpConfig.fromEnvironment(env)), ReceivedExport.encoder(),
                maxQueueBytes, retry);
        return exporter;
    }

    @Test
    void deliversAValidRequestPlain() {
        Received r = deliversAValidRequest("none");
        assertThat(r.contentEncoding()).isNull();
        assertThat(r.rawBody()).isEqualTo(r.request().toByteArray());
    }

    @Test
    void deliversAValidRequestGzip() {
        Received r = deliversAValidRequest("gzip");
        assertThat(r.contentEncoding()).isEqualTo("gzip");
        // gzip magic, and smaller than the protobuf it carries
        assertThat(r.rawBody()[0] & 0xff).isEqualTo(0x1f);
        assertThat(r.rawBody()[1] & 0xff).isEqualTo(0x8b);
        assertThat(r.rawBody().length).isLessThan(r.request().getSerializedSize());
    }

    private Received deliversAValidRequest(String compression) {
        OtlpExporter e = exporter(server.getAddress().getPort(), compression, 1 << 20, OtlpGrpcExportTest.FAST_RETRY);
        Profile input = TestProfiles.twoProcesses();
        assertThat(e.offer(input)).isTrue();
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(received).hasSize(1);
        Received r = received.getFirst();
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/v1development/profiles");
        assertThat(r.contentType()).isEqualTo("application/x-protobuf");
        assertThat(r.tenant()).isEqualTo("team a");
        ReceivedExport.assertRepresents(r.request(), input);
        assertThat(e.sentRequests()).isEqualTo(1);
        assertThat(e.failedRequests() + e.droppedRequests() + e.retries()).isZero();
        return r;
    }

    @Test
    void partialSuccessIsCounted() {
        okBody = ExportProfilesServiceResponse.newBuilder().setPartialSuccess(ExportProfilesPartialSuccess.newBuilder()
                .setRejectedProfiles(2).setErrorMessage("unknown frame type")).build().toByteArray();
        OtlpExporter e = exporter(server.getAddress().getPort(), "gzip", 1 << 20, OtlpGrpcExportTest.FAST_RETRY);
        e.offer(TestProfiles.twoProcesses());
        e.offer(TestProfiles.twoProcesses());
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(e.sentRequests()).isEqualTo(2);
        assertThat(e.rejectedProfiles()).isEqualTo(4);
    }

    @Test
    void serviceUnavailableIsRetriedUntilDelivered() {
        failuresLeft.set(3);
        failureStatus = 503;
        OtlpExporter e = exporter(server.getAddress().getPort(), "none", 1 << 20, OtlpGrpcExportTest.FAST_RETRY);
        Profile input = TestProfiles.twoProcesses();
        e.offer(input);
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(received).hasSize(1);
        ReceivedExport.assertRepresents(received.getFirst().request(), input);
        assertThat(e.retries()).isEqualTo(3);
        assertThat(e.sentRequests()).isEqualTo(1);
    }

    @Test
    void tooManyRequestsHonoursRetryAfter() {
        failuresLeft.set(1);
        failureStatus = 429;
        retryAfter = "1";
        OtlpExporter e = exporter(server.getAddress().getPort(), "none", 1 << 20, OtlpGrpcExportTest.FAST_RETRY);
        long t0 = System.nanoTime();
        e.offer(TestProfiles.twoProcesses());
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(e.retries()).isEqualTo(1);
        assertThat(received).hasSize(1);
    }

    @Test
    void badRequestIsNotRetried() {
        failuresLeft.set(1);
        failureStatus = 400;
        OtlpExporter e = exporter(server.getAddress().getPort(), "none", 1 << 20, OtlpGrpcExportTest.FAST_RETRY);
        e.offer(TestProfiles.twoProcesses());
        e.offer(TestProfiles.twoProcesses());
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(e.failedRequests()).isEqualTo(1);
        assertThat(e.retries()).isZero();
        assertThat(e.sentRequests()).isEqualTo(1);
    }

    @Test
    void receiverDownFillsTheQueueToItsByteBoundAndCountsDrops() throws Exception {
        int deadPort = ExporterQueueChecks.closedLoopbackPort();
        ExporterQueueChecks.fillsToBound((max, retry) -> exporter(deadPort, "gzip", max, retry),
                ReceivedExport.encoder().encode(TestProfiles.twoProcesses()));
    }
}
