package io.moonwalk.agent.export.otlp;

import java.time.Duration;

/**
 * One failed export attempt, classified the way the OTLP specification asks: retryable failures
 * (receiver overloaded or briefly unreachable) are sent again with backoff, the others are dropped.
 */
public final class ExportException extends Exception {

    private final boolean retryable;
    private final Duration retryAfter;

    /**
     * @param retryAfter the delay the server asked for (gRPC RetryInfo, HTTP Retry-After), or null
     */
    public ExportException(String message, boolean retryable, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
        this.retryAfter = retryAfter;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The server's requested delay before the next attempt, or null when it gave none. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
