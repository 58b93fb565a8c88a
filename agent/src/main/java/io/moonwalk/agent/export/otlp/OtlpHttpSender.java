package io.moonwalk.agent.export.otlp;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.GZIPOutputStream;

/**
 * Sends OTLP/HTTP binary protobuf: {@code POST} of the serialized request with
 * {@code Content-Type: application/x-protobuf} to the configured URL. The profiles signal path is
 * {@value OtlpConfig#HTTP_SIGNAL_PATH} (what the collector's {@code otlphttp} exporter and
 * {@code otlp} receiver use for the development-stage profiles signal); {@link OtlpConfig} appends it
 * to a generic endpoint.
 *
 * <p>Status handling follows the OTLP/HTTP specification: 2xx is success (the body may carry
 * {@code partial_success}); 429, 502, 503 and 504 are retryable and may carry {@code Retry-After};
 * everything else is permanent. Connection failures and timeouts are retryable.
 */
public final class OtlpHttpSender extends ReceiverSender {

    private static final long MAX_RESPONSE_BYTES = 1 << 20;
    private static final int MAX_ERROR_TEXT = 300;

    private final HttpClient client;
    private final HttpRequest.Builder template;
    private final boolean gzip;

    public OtlpHttpSender(OtlpConfig config) {
        super(config, OtlpConfig.Protocol.HTTP_PROTOBUF, "OtlpHttpSender");
        this.gzip = config.compression() == OtlpConfig.Compression.GZIP;
        this.client = client(config);
        this.template = requestTemplate(config);
    }

    /** An HTTP client with {@code config}'s connect timeout and TLS material. */
    private static HttpClient client(OtlpConfig config) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(config.timeout())
                .followRedirects(HttpClient.Redirect.NEVER);
        if (config.tls()) {
            b.sslContext(TlsMaterial.sslContext(config));
        }
        return b.build();
    }

    /** A POST template to {@code config}'s endpoint with its timeout, content type, headers and encoding. */
    private static HttpRequest.Builder requestTemplate(OtlpConfig config) {
        boolean gzip = config.compression() == OtlpConfig.Compression.GZIP;
        HttpRequest.Builder t = HttpRequest.newBuilder(config.endpoint())
                .timeout(config.timeout())
                .header("Content-Type", "application/x-protobuf")
                .header("User-Agent", "moonwalk");
        for (Map.Entry<String, String> h : config.headers().entrySet()) {
            try {
                t.header(h.getKey(), h.getValue());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("OTEL_EXPORTER_OTLP_HEADERS: header '" + h.getKey()
                        + "' cannot be set on an HTTP request (restricted or malformed); remove it", e);
            }
        }
        if (gzip) {
            t.header("Content-Encoding", "gzip");
        }
        return t;
    }

    @Override
    public void send(ExportProfilesServiceRequest request) throws ExportException {
        byte[] body = gzip ? gzip(request) : request.toByteArray();
        HttpRequest http = template.copy().POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<byte[]> response;
        CompletableFuture<HttpResponse<byte[]>> future = client.sendAsync(http,
                HttpResponse.BodyHandlers.limiting(HttpResponse.BodyHandlers.ofByteArray(), MAX_RESPONSE_BYTES));
        try {
            // The client's own timeout ends at the response headers; this also bounds a trickled body.
            response = future.get(timeout.toNanos() * 2, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new ExportException("OTLP HTTP export to " + endpoint + " timed out after " + timeout.toMillis()
                    + " ms", true, null, e);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new ExportException("OTLP HTTP export to " + endpoint + " interrupted", false, null, e);
        } catch (ExecutionException e) {
            // Connection refused/reset, TLS and I/O errors: the receiver may be restarting, so retry
            // (the exporter bounds the attempts).
            Throwable cause = e.getCause();
            throw new ExportException("OTLP HTTP export to " + endpoint + " failed: " + cause, true, null, cause);
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            byte[] bytes = response.body();
            if (bytes.length > 0) {
                try {
                    ExportProfilesServiceResponse r = ExportProfilesServiceResponse.parseFrom(bytes);
                    if (r.hasPartialSuccess()) {
                        partial.record(r.getPartialSuccess());
                    }
                } catch (InvalidProtocolBufferException e) {
                    // Delivered is delivered: a receiver that answers 2xx with a non-protobuf body
                    // (a proxy page, JSON) accepted the data; there is just no partial_success to read.
                }
            }
            return;
        }
        boolean retryable = status == 429 || status == 502 || status == 503 || status == 504;
        throw new ExportException("OTLP HTTP export to " + endpoint + " failed: HTTP " + status
                + errorText(response), retryable, retryAfter(response), null);
    }

    /** The request serialized and gzip-compressed. */
    private static byte[] gzip(MessageLite request) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(request.getSerializedSize() / 4 + 64);
        try (OutputStream out = new GZIPOutputStream(buf)) {
            request.writeTo(out);
        } catch (IOException e) {
            throw new IllegalStateException("gzip into memory failed", e);
        }
        return buf.toByteArray();
    }

    /** The error detail: OTLP receivers answer with a google.rpc.Status; others with text. */
    private static String errorText(HttpResponse<byte[]> response) {
        byte[] body = response.body();
        if (body == null || body.length == 0) {
            return "";
        }
        String text;
        boolean protobuf = response.headers().firstValue("Content-Type").orElse("").contains("protobuf");
        if (protobuf) {
            try {
                text = com.google.rpc.Status.parseFrom(body).getMessage();
            } catch (InvalidProtocolBufferException e) {
                text = "<unparseable protobuf error body>";
            }
        } else {
            text = new String(body, 0, Math.min(body.length, MAX_ERROR_TEXT), StandardCharsets.UTF_8);
        }
        text = text.replaceAll("\\p{Cntrl}", " ").strip();
        if (text.length() > MAX_ERROR_TEXT) {
            text = text.substring(0, MAX_ERROR_TEXT) + "...";
        }
        return text.isEmpty() ? "" : " (" + text + ")";
    }

    /** Only the delay-seconds form of Retry-After; an HTTP-date falls back to our own backoff. */
    private static Duration retryAfter(HttpResponse<?> response) {
        Optional<String> v = response.headers().firstValue("Retry-After");
        if (v.isEmpty()) {
            return null;
        }
        try {
            long seconds = Long.parseLong(v.get().trim());
            return seconds >= 0 ? Duration.ofSeconds(seconds) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public void close() {
        client.shutdownNow();
    }
}
