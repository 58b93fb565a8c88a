package io.moonwalk.agent.store;

import io.moonwalk.agent.profile.Profile;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the web view needs about a stored window without reading its file again: kept in memory
 * for every stored window and persisted in the store's index ({@link StoreIndex}), so the index
 * page and the timeline of a 24 h store never open a window file.
 *
 * <p>Bounded per window whatever the host runs: only the {@value #MAX_PROCESSES} busiest
 * processes are named (the rest is {@link #otherSamples()}), and at most {@value #MAX_VM_STATES}
 * VM states.
 *
 * @param startMillis    window start (epoch milliseconds)
 * @param durationMillis window length
 * @param samples        samples in the window
 * @param processes      pid to (command, samples) of the busiest processes
 * @param vmStates       samples per value of the {@value #VM_STATE} label
 * @param bytes          bytes of the window's files on disk
 * @param vms            interpreter VMs' JIT health at the window's end (at most {@value #MAX_VMS} VMs)
 * @param aborts         the window's busiest JIT trace-abort sites (at most {@value #MAX_ABORT_SITES}, most first)
 */
public record WindowSummary(long startMillis, long durationMillis, long samples, Map<Integer, ProcessSamples> processes,
                            Map<String, Long> vmStates, long bytes, List<VmHealth> vms, List<AbortSite> aborts) {
    /** The sample label carrying the LuaJIT VM state (filled by the LuaJIT unwinder). */
    public static final String VM_STATE = "luajit.vm_state";
    /** Processes named per window; a 500-process host keeps its 24 h index in a few MiB. */
    public static final int MAX_PROCESSES = 16;
    public static final int MAX_VM_STATES = 16;
    /** VMs whose JIT health a window keeps: 24 h of windows hold at most 138,240 (about 5 MiB). */
    public static final int MAX_VMS = 8;
    /** Trace-abort sites a window keeps: 24 h of windows hold at most 172,800 (a few MiB of index). */
    public static final int MAX_ABORT_SITES = 10;

    /**
     * One interpreter VM's JIT health when the window was stored (floats: these are chart values).
     *
     * @param vm            {@code pid/vm} ({@code 300/vm1})
     * @param traces        live JIT traces
     * @param mcodeBytes    bytes of machine-code areas
     * @param maxMcodeBytes the VM's limit on them
     * @param flushes       flushes seen since the agent began tracking the VM (a counter)
     */
    public record VmHealth(String vm, float traces, float mcodeBytes, float maxMcodeBytes, float flushes) {
    }

    /**
     * JIT trace aborts at one site within the window.
     *
     * @param vm     {@code pid/vm} ({@code 300/vm1})
     * @param site   the trace's start as a Lua frame: {@code function <app.lua:9> (app.lua:12)}
     * @param reason LuaJIT's reason (the last at the site in the window), without its argument
     * @param count  aborts at the site in the window
     */
    public record AbortSite(String vm, String site, String reason, long count) {
    }

    /** A process's name and sample count within a window. */
    public record ProcessSamples(String command, long samples) {
    }

    public WindowSummary {
        processes = Collections.unmodifiableMap(new TreeMap<>(processes));
        vmStates = Collections.unmodifiableMap(new TreeMap<>(vmStates));
        vms = List.copyOf(vms.size() > MAX_VMS ? vms.subList(0, MAX_VMS) : vms);
        aborts = List.copyOf(aborts.size() > MAX_ABORT_SITES ? aborts.subList(0, MAX_ABORT_SITES) : aborts);
    }

    public WindowSummary(long startMillis, long durationMillis, long samples, Map<Integer, ProcessSamples> processes,
                         Map<String, Long> vmStates, long bytes, List<VmHealth> vms) {
        this(startMillis, durationMillis, samples, processes, vmStates, bytes, vms, List.of());
    }

    public WindowSummary(long startMillis, long durationMillis, long samples, Map<Integer, ProcessSamples> processes,
                         Map<String, Long> vmStates, long bytes) {
        this(startMillis, durationMillis, samples, processes, vmStates, bytes, List.of());
    }

    public long endMillis() {
        return startMillis + durationMillis;
    }

    /** Samples of processes not named in {@link #processes()}. */
    public long otherSamples() {
        long named = 0;
        for (ProcessSamples p : processes.values()) {
            named += p.samples();
        }
        return Math.max(0, samples - named);
    }

    WindowSummary at(long start, long duration, long fileBytes) {
        return new WindowSummary(start, duration, samples, processes, vmStates, fileBytes, vms, aborts);
    }

    WindowSummary withVms(List<VmHealth> g) {
        return new WindowSummary(startMillis, durationMillis, samples, processes, vmStates, bytes, g, aborts);
    }

    public WindowSummary withAborts(List<AbortSite> a) {
        return new WindowSummary(startMillis, durationMillis, samples, processes, vmStates, bytes, vms, a);
    }

    static WindowSummary of(Profile p, long bytes) {
        Map<Integer, ProcessSamples> procs = new HashMap<>();
        Map<String, Long> states = new HashMap<>();
        for (Profile.Entry e : p.entries()) {
            procs.merge(e.process().pid(), new ProcessSamples(e.process().command(), e.count()),
                    (a, b) -> new ProcessSamples(a.command(), a.samples() + b.samples()));
            String s = e.labels().get(VM_STATE);
            if (s != null && (states.containsKey(s) || states.size() < MAX_VM_STATES)) {
                states.merge(s, e.count(), Long::sum);
            }
        }
        return new WindowSummary(p.startEpochNanos() / 1_000_000, p.durationNanos() / 1_000_000, p.totalSamples(),
                busiest(procs), states, bytes);
    }

    private static Map<Integer, ProcessSamples> busiest(Map<Integer, ProcessSamples> all) {
        if (all.size() <= MAX_PROCESSES) {
            return all;
        }
        List<Map.Entry<Integer, ProcessSamples>> sorted = new ArrayList<>(all.entrySet());
        sorted.sort((a, b) -> Long.compare(b.getValue().samples(), a.getValue().samples()));
        Map<Integer, ProcessSamples> top = new HashMap<>();
        for (var e : sorted.subList(0, MAX_PROCESSES)) {
            top.put(e.getKey(), e.getValue());
        }
        return top;
    }
}
