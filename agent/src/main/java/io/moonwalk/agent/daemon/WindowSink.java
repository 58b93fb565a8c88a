package io.moonwalk.agent.daemon;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.interpreter.InterpreterStats;
import java.time.Duration;
import java.util.List;

/** Where finished windows go (OTLP export, local store). Called on the window thread only. */
public interface WindowSink {
    /** A short name for logs and metrics: {@code otlp}, {@code store}. */
    String name();

    /** Takes one window; must not wait on the network. */
    void accept(Profile window) throws Exception;

    /**
     * Takes one window with the events the interpreter plugins counted at code sites in it (trace aborts), taken
     * when the window was named; a sink that keeps none of them takes the window alone.
     */
    default void accept(Profile window, List<InterpreterStats.SiteCount> sites) throws Exception {
        accept(window);
    }

    /**
     * Takes one window with its off-CPU profile ({@code --off-cpu}) and site counts; a sink that keeps no off-CPU
     * profile takes the CPU window and the sites.
     */
    default void accept(Window window) throws Exception {
        accept(window.cpu(), window.sites());
    }

    /** False while the sink's last delivery or write failed (drives {@code /readyz}). */
    boolean healthy();

    /** A sentence on the current state for {@code /readyz}, e.g. the last error. */
    String status();

    /** Delivers what is still pending within {@code timeout}, then releases resources. */
    void finish(Duration timeout);
}
