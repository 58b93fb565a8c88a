package io.moonwalk.agent.metrics;

import io.moonwalk.agent.export.otlp.ExportException;
import io.moonwalk.agent.export.otlp.OtlpConfig;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

/**
 * Delivers one metrics request to an OTLP receiver: one attempt, no retry. A lost push costs nothing
 * but resolution: every series is cumulative, so the next push carries what this one would have.
 */
public interface OtlpMetricsSender extends AutoCloseable {

    /**
     * Sends {@code request} and waits for the answer (at most the configured timeout).
     *
     * @return data points the receiver rejected in {@code partial_success} (0 on full success)
     * @throws ExportException when the receiver did not accept the request
     */
    long send(ExportMetricsServiceRequest request) throws ExportException;

    @Override
    void close();

    /** The sender for {@code config.protocol()}. */
    static OtlpMetricsSender create(OtlpConfig config) {
        return switch (config.protocol()) {
            case GRPC -> new GrpcMetricsSender(config);
            case HTTP_PROTOBUF -> new HttpMetricsSender(config);
        };
    }
}
