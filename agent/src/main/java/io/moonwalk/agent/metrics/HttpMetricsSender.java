package io.moonwalk.agent.metrics;

import com.google.protobuf.InvalidProtocolBufferException;
import io.moonwalk.agent.export.otlp.ExportException;
import io.moonwalk.agent.export.otlp.OtlpConfig;
import io.moonwalk.agent.export.otlp.OtlpHttpSender;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** OTLP/HTTP binary protobuf {@code POST} to the metrics URL, with the profiles export's client setup. */
final class HttpMetricsSender implements OtlpMetricsSender {
    private static final long MAX_RESPONSE_BYTES = 1 << 20;

    private final HttpClient client;
    private final HttpRequest.Builder template;
    private final boolean gzip;
    private final Duration timeout;
    private final String endpoint;

    HttpMetricsSender(OtlpConfig config) {
        this.endpoint = config.endpoint().toString();
        this.timeout = config.timeout();
        this.gzip = config.compression() == OtlpConfig.Compression.GZIP;
        this.client = OtlpHttpSender.client(config);
        this.template = OtlpHttpSender.requestTemplate(config);
    }

    @Override
    public long send(ExportMetricsServiceRequest request) throws ExportException {
        byte[] body = gzip ? OtlpHttpSender.gzip(request) : request.toByteArray();
        HttpRequest http = template.copy().POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        CompletableFuture<HttpResponse<byte[]>> future = client.sendAsync(http,
                HttpResponse.BodyHandlers.limiting(HttpResponse.BodyHandlers.ofByteArray(), MAX_RESPONSE_BYTES));
        HttpResponse<byte[]> response;
        try {
            // the client's timeout ends at the response headers; this also bounds a trickled body
            response = future.get(timeout.toNanos() * 2, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new ExportException("OTLP HTTP metrics push to " + endpoint + " timed out after "
                    + timeout.toMillis() + " ms", true, null, e);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new ExportException("OTLP HTTP metrics push to " + endpoint + " interrupted", false, null, e);
        } catch (ExecutionException e) {
            throw new ExportException("OTLP HTTP metrics push to " + endpoint + " failed: " + e.getCause(), true, null,
                    e.getCause());
        }
        int status = response.statusCode();
        if (status < 200 || status >= 300) {
            boolean retryable = status == 429 || status == 502 || status == 503 || status == 504;
            throw new ExportException("OTLP HTTP metrics push to " + endpoint + " failed: HTTP " + status
                    + OtlpHttpSender.errorText(response), retryable, null, null);
        }
        byte[] bytes = response.body();
        if (bytes.length == 0) {
            return 0;
        }
        try {
            ExportMetricsServiceResponse r = ExportMetricsServiceResponse.parseFrom(bytes);
            return r.hasPartialSuccess() ? Math.max(0, r.getPartialSuccess().getRejectedDataPoints()) : 0;
        } catch (InvalidProtocolBufferException e) {
            return 0;  // a 2xx with a non-protobuf body (a proxy page) still means delivered
        }
    }

    @Override
    public void close() {
        client.shutdownNow();
    }
}
