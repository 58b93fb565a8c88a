package io.moonwalk.agent.session;

import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.interpreter.InterpreterStats;
import java.util.ArrayList;
import java.util.List;

/**
 * One immutable snapshot of a session's figures, published by the drain thread after each drain and at each
 * window's end (the slower component figures at most once a second). Metrics, readiness and the record summary
 * read only these snapshots: nothing outside the drain thread touches the session's mutable parts.
 *
 * @param attached            the BPF programs are attached
 * @param drainedAtNanos      {@link System#nanoTime()} of the last drain, 0 before the first
 * @param samples             samples accepted into windows
 * @param windowTableDrops    samples dropped because a window's table was full
 * @param filteredSamples     samples of processes the agent-side filters rejected
 * @param malformedRecords    records the drain could not parse
 * @param processesTracked    processes the collector holds identity and maps for
 * @param processEvictions    processes evicted from the full process table
 * @param windowsClosed       windows named
 * @param unknownNativeFrames native frames left without a symbol (distinct addresses per window)
 * @param unknownKernelFrames kernel frames outside every kallsyms symbol (distinct addresses per window)
 * @param kernel              the BPF program's counters (enum {@code mw_stat}), as last read
 * @param unwindTables        the shared unwind tables
 * @param symbolizer          the native symbolizer
 * @param mapFill             fill of every kernel map the agent writes (core and plugins)
 * @param interpreters        each interpreter plugin's snapshot
 */
public record SessionStats(boolean attached, long drainedAtNanos, long samples, long windowTableDrops,
                           long filteredSamples, long malformedRecords, long processesTracked, long processEvictions,
                           long windowsClosed, long unknownNativeFrames, long unknownKernelFrames, List<Long> kernel,
                           UnwindTableStats unwindTables, SymbolizerStats symbolizer, List<MapFill> mapFill,
                           List<InterpreterStats> interpreters) {
    /** Before a session exists. */
    public static final SessionStats NONE = new SessionStats(false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, List.of(),
            UnwindTableStats.NONE, SymbolizerStats.NONE, List.of(), List.of());

    public SessionStats {
        kernel = List.copyOf(kernel);
        mapFill = List.copyOf(mapFill);
        interpreters = List.copyOf(interpreters);
    }

    /** Kernel counter {@code index} (enum {@code mw_stat}), 0 when not read yet. */
    public long kernelStat(int index) {
        return index < kernel.size() ? kernel.get(index) : 0;
    }

    /** The kernel counters as an array (index = enum {@code mw_stat}). */
    public long[] kernelStats() {
        long[] k = new long[kernel.size()];
        for (int i = 0; i < k.length; i++) {
            k[i] = kernel.get(i);
        }
        return k;
    }

    static List<Long> kernelList(long[] k) {
        List<Long> out = new ArrayList<>(k.length);
        for (long v : k) {
            out.add(v);
        }
        return out;
    }
}
