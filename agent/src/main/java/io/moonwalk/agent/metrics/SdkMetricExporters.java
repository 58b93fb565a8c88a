package io.moonwalk.agent.metrics;

import io.moonwalk.agent.export.otlp.OtlpConfig;
import io.moonwalk.agent.export.otlp.TlsMaterial;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/**
 * The OpenTelemetry SDK's OTLP metric exporter for a resolved {@link OtlpConfig}: the agent resolves
 * the metrics settings once, with the precedence its README documents (flags, then
 * {@code OTEL_EXPORTER_OTLP_METRICS_*}, then {@code OTEL_EXPORTER_OTLP_*}, then the profiles
 * settings), and reads the TLS files through the same {@link TlsMaterial} as the profiles export.
 */
public final class SdkMetricExporters {
    private SdkMetricExporters() {
    }

    /** gRPC or HTTP/protobuf per {@code config.protocol()}; no retry (the next push carries the values). */
    public static MetricExporter create(OtlpConfig config) {
        String url = config.endpoint().toString();
        Duration timeout = config.timeout();
        String compression = config.compression() == OtlpConfig.Compression.GZIP ? "gzip" : "none";
        Supplier<Map<String, String>> headers = config::headers;
        SSLContext tls = config.tls() ? TlsMaterial.sslContext(config) : null;
        X509TrustManager trust = config.tls() ? TlsMaterial.x509TrustManager(config) : null;
        return switch (config.protocol()) {
            case GRPC -> {
                var b = OtlpGrpcMetricExporter.builder().setEndpoint(url).setTimeout(timeout).setHeaders(headers);
                b.setCompression(compression).setRetryPolicy(null);
                yield (tls == null ? b : b.setSslContext(tls, trust)).build();
            }
            case HTTP_PROTOBUF -> {
                var b = OtlpHttpMetricExporter.builder().setEndpoint(url).setTimeout(timeout).setHeaders(headers);
                b.setCompression(compression).setRetryPolicy(null);
                yield (tls == null ? b : b.setSslContext(tls, trust)).build();
            }
        };
    }
}
