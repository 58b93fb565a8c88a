package io.moonwalk.agent.export.otlp;

import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;

/** Delivers one export request to an OTLP receiver; one attempt per call, no retries. */
public interface OtlpSender extends AutoCloseable {

    /**
     * Sends {@code request} and waits for the receiver's answer (at most the configured timeout).
     * Returns normally on full or partial success; a partial success is counted in
     * {@link #rejectedProfiles()}.
     *
     * @throws ExportException when the receiver did not accept the request
     */
    void send(ExportProfilesServiceRequest request) throws ExportException;

    /** Profiles the receiver reported as rejected in {@code partial_success}, since construction. */
    long rejectedProfiles();

    @Override
    void close();

    /** The sender for {@code config.protocol()}. */
    static OtlpSender create(OtlpConfig config) {
        return switch (config.protocol()) {
            case GRPC -> new OtlpGrpcSender(config);
            case HTTP_PROTOBUF -> new OtlpHttpSender(config);
        };
    }
}
