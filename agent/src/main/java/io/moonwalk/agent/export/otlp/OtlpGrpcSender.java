package io.moonwalk.agent.export.otlp;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse;
import io.opentelemetry.proto.collector.profiles.v1development.ProfilesServiceGrpc;

import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sends over gRPC ({@code ProfilesService/Export}) with grpc-java's shaded Netty transport.
 * {@code http://} endpoints are plaintext (h2c), {@code https://} endpoints use TLS with the configured
 * CA and, when set, a client certificate.
 */
public final class OtlpGrpcSender extends ReceiverSender {

    /** Limit on the response the receiver may send back; a response is a few bytes in practice. */
    private static final int MAX_RESPONSE_BYTES = 1 << 20;
    /** Limit on the request we send; matches the OpenTelemetry eBPF profiler's 32 MiB. */
    private static final int MAX_REQUEST_BYTES = 32 << 20;

    private final ManagedChannel channel;
    private final ProfilesServiceGrpc.ProfilesServiceBlockingStub stub;

    public OtlpGrpcSender(OtlpConfig config) {
        super(config, OtlpConfig.Protocol.GRPC, "OtlpGrpcSender");
        this.channel = channel(config);
        ProfilesServiceGrpc.ProfilesServiceBlockingStub s = ProfilesServiceGrpc.newBlockingStub(channel)
                .withInterceptors(headerInterceptor(config))
                .withMaxOutboundMessageSize(MAX_REQUEST_BYTES);
        if (config.compression() == OtlpConfig.Compression.GZIP) {
            s = s.withCompression("gzip");
        }
        this.stub = s;
    }

    /**
     * A channel to {@code config}'s endpoint: plaintext for {@code http://}, TLS with the configured CA
     * and client certificate for {@code https://}.
     */
    private static ManagedChannel channel(OtlpConfig config) {
        URI uri = config.endpoint();
        ChannelCredentials creds;
        if (config.tls()) {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
            TrustManager[] trust = TlsMaterial.trustManagers(config.certificate());
            if (trust != null) {
                tls.trustManager(trust);
            }
            KeyManager[] keys = TlsMaterial.keyManagers(config.clientCertificate(), config.clientKey());
            if (keys != null) {
                tls.keyManager(keys);
            }
            creds = tls.build();
        } else {
            creds = InsecureChannelCredentials.create();
        }
        String host = uri.getHost();
        return Grpc.newChannelBuilderForAddress(host.startsWith("[") ? host.substring(1, host.length() - 1) : host,
                        uri.getPort(), creds)
                .maxInboundMessageSize(MAX_RESPONSE_BYTES)
                .userAgent("moonwalk")
                .build();
    }

    /** Attaches {@code config}'s headers as gRPC metadata to every call. */
    private static ClientInterceptor headerInterceptor(OtlpConfig config) {
        Metadata headers = new Metadata();
        for (Map.Entry<String, String> h : config.headers().entrySet()) {
            headers.put(Metadata.Key.of(h.getKey().toLowerCase(Locale.ROOT), Metadata.ASCII_STRING_MARSHALLER), h.getValue());
        }
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    @Override
    public void send(ExportProfilesServiceRequest request) throws ExportException {
        ExportProfilesServiceResponse response;
        try {
            response = stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS).export(request);
        } catch (StatusRuntimeException e) {
            throw classify(endpoint, e);
        }
        if (response.hasPartialSuccess()) {
            partial.record(response.getPartialSuccess());
        }
    }

    /**
     * OTLP/gRPC retryable codes: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE,
     * DATA_LOSS, and RESOURCE_EXHAUSTED (throttling; we always back off on it, honouring RetryInfo).
     */
    private static ExportException classify(String endpoint, StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        boolean retryable = switch (code) {
            case CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, RESOURCE_EXHAUSTED -> true;
            default -> false;
        };
        String description = e.getStatus().getDescription();
        String message = "OTLP gRPC export to " + endpoint + " failed: " + code
                + (description == null ? "" : " (" + description + ")");
        return new ExportException(message, retryable, retryDelay(e), e);
    }

    private static Duration retryDelay(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null) {
            return null;
        }
        for (Any detail : status.getDetailsList()) {
            if (detail.is(RetryInfo.class)) {
                try {
                    com.google.protobuf.Duration d = detail.unpack(RetryInfo.class).getRetryDelay();
                    if (d.getSeconds() >= 0 && d.getNanos() >= 0) {
                        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
                    }
                } catch (InvalidProtocolBufferException ignored) {
                    // a garbled hint is no hint: fall back to our own backoff
                }
            }
        }
        return null;
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
