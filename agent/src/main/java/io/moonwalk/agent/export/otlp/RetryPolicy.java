package io.moonwalk.agent.export.otlp;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter for retryable export failures.
 *
 * @param initialBackoff delay before the first retry (before jitter)
 * @param maxBackoff     cap on our own computed delay
 * @param multiplier     growth per attempt
 * @param maxAttempts    attempts per request including the first; then the request counts as failed
 */
public record RetryPolicy(Duration initialBackoff, Duration maxBackoff, double multiplier, int maxAttempts) {

    /** A server may ask for a longer pause than our cap (throttling), but never for longer than this. */
    static final Duration MAX_SERVER_DELAY = Duration.ofSeconds(60);

    /** The OpenTelemetry exporter defaults: 1 s initial, 5 s cap, x1.5, 5 attempts. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(5), 1.5, 5);

    public RetryPolicy {
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("need 0 <= initialBackoff <= maxBackoff, got "
                    + initialBackoff + " and " + maxBackoff);
        }
        if (!(multiplier >= 1.0)) {
            throw new IllegalArgumentException("multiplier must be >= 1, got " + multiplier);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
        }
    }

    /**
     * Delay before attempt {@code failedAttempts + 1}: the capped exponential value scaled by a random
     * factor in [0.5, 1.0] (so many agents restarted together do not retry in lockstep), or the
     * server's hint when it gave one, limited to {@link #MAX_SERVER_DELAY}.
     */
    public Duration delay(int failedAttempts, Duration serverHint, RandomGenerator random) {
        if (serverHint != null) {
            return serverHint.compareTo(MAX_SERVER_DELAY) > 0 ? MAX_SERVER_DELAY : serverHint;
        }
        double nanos = initialBackoff.toNanos() * Math.pow(multiplier, Math.max(0, failedAttempts - 1));
        double capped = Math.min(nanos, maxBackoff.toNanos());
        return Duration.ofNanos((long) (capped * (0.5 + 0.5 * random.nextDouble())));
    }
}
