package io.moonwalk.agent.metrics;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.moonwalk.agent.export.otlp.ExportException;
import io.moonwalk.agent.export.otlp.OtlpConfig;
import io.moonwalk.agent.export.otlp.OtlpGrpcSender;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** {@code MetricsService/Export} over a channel built exactly like the profiles export's. */
final class GrpcMetricsSender implements OtlpMetricsSender {
    private final ManagedChannel channel;
    private final MetricsServiceGrpc.MetricsServiceBlockingStub stub;
    private final Duration timeout;
    private final String endpoint;

    GrpcMetricsSender(OtlpConfig config) {
        this.endpoint = config.endpoint().toString();
        this.channel = OtlpGrpcSender.channel(config);
        MetricsServiceGrpc.MetricsServiceBlockingStub s = MetricsServiceGrpc.newBlockingStub(channel)
                .withInterceptors(OtlpGrpcSender.headerInterceptor(config));
        if (config.compression() == OtlpConfig.Compression.GZIP) {
            s = s.withCompression("gzip");
        }
        this.stub = s;
        this.timeout = config.timeout();
    }

    @Override
    public long send(ExportMetricsServiceRequest request) throws ExportException {
        ExportMetricsServiceResponse response;
        try {
            response = stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS).export(request);
        } catch (StatusRuntimeException e) {
            throw OtlpGrpcSender.classify(endpoint, e);
        }
        return response.hasPartialSuccess() ? Math.max(0, response.getPartialSuccess().getRejectedDataPoints()) : 0;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
