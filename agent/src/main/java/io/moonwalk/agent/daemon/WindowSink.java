package io.moonwalk.agent.daemon;

import java.time.Duration;

/** Where finished windows go (OTLP export, local store). Called on the window thread only. */
public interface WindowSink {
    /** A short name for logs and metrics: {@code otlp}, {@code store}. */
    String name();

    /**
     * Takes one window (its CPU profile, the event profiles the agent records, the interpreter site counts); must
     * not wait on the network.
     */
    void accept(Window window) throws Exception;

    /** False while the sink's last delivery or write failed (drives {@code /readyz}). */
    boolean healthy();

    /** A sentence on the current state for {@code /readyz}, e.g. the last error. */
    String status();

    /** Delivers what is still pending within {@code timeout}, then releases resources. */
    void finish(Duration timeout);
}
