package io.moonwalk.interpreter;

import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * An interpreter that moonwalk can walk and name (the loader of the plugin shape). Implementations are listed in
 * {@code META-INF/services/io.moonwalk.interpreter.InterpreterPlugin} of their module; the session starts every
 * installed plugin, so adding an interpreter adds a module and that one line, and touches no core class.
 */
public interface InterpreterPlugin {
    /** Short lower-case name, used in logs and as the frame type of its frames ({@code luajit}). */
    String name();

    /**
     * Starts the plugin for one profiling session: called once, after the BPF object is loaded (its maps exist)
     * and before the perf events attach (so the first processes synced already see the plugin).
     */
    Interpreter start(InterpreterContext context);

    /**
     * Keys of this plugin's sample labels ({@link Interpreter#labels}) whose values are decimal integers, so that
     * exports send them as numbers (OTLP int attributes) rather than strings.
     */
    default Set<String> integerLabels() {
        return Set.of();
    }

    /** The plugins on the class path, in a stable order (by name). */
    static List<InterpreterPlugin> installed() {
        return ServiceLoader.load(InterpreterPlugin.class).stream().map(ServiceLoader.Provider::get)
                .sorted(java.util.Comparator.comparing(InterpreterPlugin::name)).toList();
    }
}
