package io.moonwalk.agent.export.otlp;

/**
 * What the gRPC and HTTP profiles senders share: the receiver they deliver to, the per-request
 * timeout, and the count and log of profiles the receiver rejected in {@code partial_success}.
 */
abstract sealed class ReceiverSender implements OtlpSender permits OtlpGrpcSender, OtlpHttpSender {
    protected final String endpoint;
    protected final java.time.Duration timeout;
    protected final PartialSuccessLog partial;

    ReceiverSender(OtlpConfig config, OtlpConfig.Protocol protocol, String name) {
        if (config.protocol() != protocol) {
            throw new IllegalArgumentException(name + " needs protocol " + protocol.envValue() + ", got "
                    + config.protocol().envValue());
        }
        this.endpoint = config.endpoint().toString();
        this.timeout = config.timeout();
        this.partial = new PartialSuccessLog(endpoint);
    }

    @Override
    public final long rejectedProfiles() {
        return partial.rejected();
    }
}
