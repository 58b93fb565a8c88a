package io.moonwalk.agent.export.otlp;

import org.junit.jupiter.api.Tag;
import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.moonwalk.agent.profile.Profile;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesPartialSuccess;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse;
import io.opentelemetry.proto.collector.profiles.v1development.ProfilesServiceGrpc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Exports to a real grpc-java server on loopback. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
@Tag("pure")
class OtlpGrpcExportTest {

    static final RetryPolicy FAST_RETRY = new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(50), 2, 6);

    /** A profiles receiver that fails a configurable number of calls first. */
    static final class Receiver extends ProfilesServiceGrpc.ProfilesServiceImplBase {
        final List<ExportProfilesServiceRequest> received = new CopyOnWriteArrayList<>();
        final List<Metadata> headers = new CopyOnWriteArrayList<>();
        final AtomicInteger failuresLeft = new AtomicInteger();
        final AtomicReference<RuntimeException> failure = new AtomicReference<>();
        volatile ExportProfilesServiceResponse response = ExportProfilesServiceResponse.getDefaultInstance();

        @Override
        public void export(ExportProfilesServiceRequest request, StreamObserver<ExportProfilesServiceResponse> out) {
            if (failuresLeft.getAndDecrement() > 0) {
                out.onError(failure.get());
                return;
            }
            received.add(request);
            out.onNext(response);
            out.onCompleted();
        }

        ServerInterceptor headerRecorder() {
            return new ServerInterceptor() {
                @Override
                public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata md, ServerCallHandler<Q, R> next) {
                    headers.add(md);
                    return next.startCall(call, md);
                }
            };
        }
    }

    private final Receiver receiver = new Receiver();
    private Server server;
    private OtlpExporter exporter;

    @BeforeEach
    void start() throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
                .addService(ServerInterceptors.intercept(receiver, receiver.headerRecorder()))
                .build().start();
    }

    @AfterEach
    void stop() throws Exception {
        if (exporter != null) {
            exporter.close();
        }
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private OtlpExporter exporter(int port, String compression, long maxQueueBytes, RetryPolicy retry) {
        Map<String, String> env = new HashMap<>();
        env.put("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + port);
        env.put("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
        env.put("OTEL_EXPORTER_OTLP_COMPRESSION", compression);
        env.put("OTEL_EXPORTER_OTLP_TIMEOUT", "3000");
        env.put("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=team%20a");
        OtlpConfig config = OtlpConfig.fromEnvironment(env);
        exporter = new OtlpExporter(OtlpSender.create(config), ReceivedExport.encoder(), maxQueueBytes, retry);
        return exporter;
    }

    @Test
    void deliversAValidRequestPlain() {
        deliversAValidRequest("none");
        assertThat(receiver.headers.getFirst().get(Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER)))
                .isIn(null, "identity");
    }

    @Test
    void deliversAValidRequestGzip() {
        deliversAValidRequest("gzip");
        assertThat(receiver.headers.getFirst().get(Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER)))
                .isEqualTo("gzip");
    }

    private void deliversAValidRequest(String compression) {
        OtlpExporter e = exporter(server.getPort(), compression, 1 << 20, FAST_RETRY);
        Profile input = TestProfiles.twoProcesses();
        assertThat(e.offer(input)).isTrue();
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(receiver.received).hasSize(1);
        ReceivedExport.assertRepresents(receiver.received.getFirst(), input);
        assertThat(receiver.headers.getFirst().get(Metadata.Key.of("x-tenant", Metadata.ASCII_STRING_MARSHALLER)))
                .isEqualTo("team a");
        assertThat(e.sentRequests()).isEqualTo(1);
        assertThat(e.failedRequests() + e.droppedRequests() + e.retries()).isZero();
        assertThat(e.queueBytes()).isZero();
    }

    @Test
    void partialSuccessIsCounted() {
        receiver.response = ExportProfilesServiceResponse.newBuilder().setPartialSuccess(
                ExportProfilesPartialSuccess.newBuilder().setRejectedProfiles(1).setErrorMessage("stack too deep")).build();
        OtlpExporter e = exporter(server.getPort(), "none", 1 << 20, FAST_RETRY);
        e.offer(TestProfiles.twoProcesses());
        e.offer(TestProfiles.twoProcesses());
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(e.sentRequests()).isEqualTo(2);
        assertThat(e.rejectedProfiles()).isEqualTo(2);
        assertThat(e.failedRequests()).isZero();
    }

    @Test
    void unavailableIsRetriedUntilDelivered() {
        receiver.failuresLeft.set(3);
        receiver.failure.set(Status.UNAVAILABLE.withDescription("collector restarting").asRuntimeException());
        OtlpExporter e = exporter(server.getPort(), "gzip", 1 << 20, FAST_RETRY);
        Profile input = TestProfiles.twoProcesses();
        e.offer(input);
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(receiver.received).hasSize(1);
        ReceivedExport.assertRepresents(receiver.received.getFirst(), input);
        assertThat(e.retries()).isEqualTo(3);
        assertThat(e.sentRequests()).isEqualTo(1);
        assertThat(e.failedRequests()).isZero();
    }

    @Test
    void resourceExhaustedHonoursTheServersRetryDelay() {
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(Status.Code.RESOURCE_EXHAUSTED.value()).setMessage("slow down")
                .addDetails(Any.pack(RetryInfo.newBuilder()
                        .setRetryDelay(com.google.protobuf.Duration.newBuilder().setNanos(300_000_000)).build()))
                .build();
        receiver.failuresLeft.set(1);
        receiver.failure.set(StatusProto.toStatusRuntimeException(status));
        OtlpExporter e = exporter(server.getPort(), "none", 1 << 20, FAST_RETRY);
        long t0 = System.nanoTime();
        e.offer(TestProfiles.twoProcesses());
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        // our own backoff would be <= 10 ms; the server asked for 300 ms
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(e.retries()).isEqualTo(1);
        assertThat(receiver.received).hasSize(1);
    }

    @Test
    void permanentErrorIsNotRetried() {
        receiver.failuresLeft.set(1);
        receiver.failure.set(Status.INVALID_ARGUMENT.withDescription("bad dictionary").asRuntimeException());
        OtlpExporter e = exporter(server.getPort(), "none", 1 << 20, FAST_RETRY);
        e.offer(TestProfiles.twoProcesses());
        e.offer(TestProfiles.twoProcesses());
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(e.failedRequests()).isEqualTo(1);
        assertThat(e.retries()).isZero();
        assertThat(e.sentRequests()).isEqualTo(1);
    }

    @Test
    void retriesAreBoundedThenTheRequestFails() {
        receiver.failuresLeft.set(Integer.MAX_VALUE);
        receiver.failure.set(Status.UNAVAILABLE.asRuntimeException());
        OtlpExporter e = exporter(server.getPort(), "none", 1 << 20, FAST_RETRY);
        e.offer(TestProfiles.twoProcesses());
        assertThat(e.flush(Duration.ofSeconds(10))).isTrue();
        assertThat(e.failedRequests()).isEqualTo(1);
        assertThat(e.retries()).isEqualTo(FAST_RETRY.maxAttempts() - 1);
    }

    @Test
    void receiverDownFillsTheQueueToItsByteBoundAndCountsDrops() throws Exception {
        int deadPort = ExporterQueueChecks.closedLoopbackPort();
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(TestProfiles.twoProcesses());
        ExporterQueueChecks.fillsToBound(
                (max, retry) -> exporter(deadPort, "none", max, retry), req);
    }
}
