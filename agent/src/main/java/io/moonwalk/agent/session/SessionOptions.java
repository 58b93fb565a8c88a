package io.moonwalk.agent.session;

import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.collect.ProcessSelector;
import io.moonwalk.interpreter.InterpreterPlugin;
import java.util.List;
import java.util.Objects;

/**
 * What a session samples.
 *
 * @param sampler  frequency, kernel PID filter (empty: whole host), ring buffer
 * @param selector agent-side process filters (executable, container, cgroup)
 * @param plugins  the interpreter plugins to start
 */
public record SessionOptions(SamplerOptions sampler, ProcessSelector selector, List<InterpreterPlugin> plugins) {
    public SessionOptions {
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(selector, "selector");
        plugins = List.copyOf(plugins);
    }

    /** Every process the kernel filter passes, with the installed interpreter plugins. */
    public static SessionOptions of(SamplerOptions sampler) {
        return new SessionOptions(sampler, ProcessSelector.ALL, InterpreterPlugin.installed());
    }

    /** The installed interpreter plugins, with agent-side filters. */
    public static SessionOptions of(SamplerOptions sampler, ProcessSelector selector) {
        return new SessionOptions(sampler, selector, InterpreterPlugin.installed());
    }
}
