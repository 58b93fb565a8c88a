package io.moonwalk.agent.store;

import io.moonwalk.agent.profile.Profile;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the web page lists about a stored window without reading its file again.
 *
 * @param startMillis    window start (epoch milliseconds)
 * @param durationMillis window length
 * @param samples        samples in the window
 * @param processes      pid to (command, samples)
 * @param vmStates       values of the {@value #VM_STATE} label seen in the window
 * @param bytes          bytes of the window's files on disk
 */
public record WindowSummary(long startMillis, long durationMillis, long samples, Map<Integer, ProcessSamples> processes,
                            Set<String> vmStates, long bytes) {
    /** The sample label carrying the LuaJIT VM state (filled by the LuaJIT unwinder). */
    public static final String VM_STATE = "luajit.vm_state";

    /** A process's name and sample count within a window. */
    public record ProcessSamples(String command, long samples) {
    }

    public WindowSummary {
        processes = Collections.unmodifiableMap(new TreeMap<>(processes));
        vmStates = Collections.unmodifiableSet(new TreeSet<>(vmStates));
    }

    public long endMillis() {
        return startMillis + durationMillis;
    }

    static WindowSummary of(Profile p, long bytes) {
        Map<Integer, ProcessSamples> procs = new TreeMap<>();
        Set<String> states = new TreeSet<>();
        for (Profile.Entry e : p.entries()) {
            procs.merge(e.process().pid(), new ProcessSamples(e.process().command(), e.count()),
                    (a, b) -> new ProcessSamples(a.command(), a.samples() + b.samples()));
            String s = e.labels().get(VM_STATE);
            if (s != null) {
                states.add(s);
            }
        }
        return new WindowSummary(p.startEpochNanos() / 1_000_000, p.durationNanos() / 1_000_000, p.totalSamples(),
                procs, states, bytes);
    }
}
