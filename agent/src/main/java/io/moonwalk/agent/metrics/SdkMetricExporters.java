package io.moonwalk.agent.metrics;

import io.moonwalk.agent.export.otlp.OtlpConfig;
import io.moonwalk.agent.export.otlp.TlsMaterial;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporterBuilder;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporterBuilder;
import io.opentelemetry.sdk.metrics.export.MetricExporter;

/**
 * The OpenTelemetry SDK's OTLP metric exporter for a resolved {@link OtlpConfig}: the agent resolves
 * the metrics settings once, with the precedence its README documents (flags, then
 * {@code OTEL_EXPORTER_OTLP_METRICS_*}, then {@code OTEL_EXPORTER_OTLP_*}, then the profiles
 * settings), and the TLS material through the same {@link TlsMaterial} as the profiles export.
 */
public final class SdkMetricExporters {
    private SdkMetricExporters() {
    }

    /** gRPC or HTTP/protobuf per {@code config.protocol()}; no retry (the next push carries the values). */
    public static MetricExporter create(OtlpConfig config) {
        String endpoint = config.endpoint().toString();
        String compression = config.compression() == OtlpConfig.Compression.GZIP ? "gzip" : "none";
        return switch (config.protocol()) {
            case GRPC -> {
                OtlpGrpcMetricExporterBuilder b = OtlpGrpcMetricExporter.builder().setEndpoint(endpoint)
                        .setTimeout(config.timeout()).setCompression(compression).setRetryPolicy(null);
                config.headers().forEach(b::addHeader);
                if (config.tls()) {
                    b.setSslContext(TlsMaterial.sslContext(config), TlsMaterial.x509TrustManager(config));
                }
                yield b.build();
            }
            case HTTP_PROTOBUF -> {
                OtlpHttpMetricExporterBuilder b = OtlpHttpMetricExporter.builder().setEndpoint(endpoint)
                        .setTimeout(config.timeout()).setCompression(compression).setRetryPolicy(null);
                config.headers().forEach(b::addHeader);
                if (config.tls()) {
                    b.setSslContext(TlsMaterial.sslContext(config), TlsMaterial.x509TrustManager(config));
                }
                yield b.build();
            }
        };
    }
}
