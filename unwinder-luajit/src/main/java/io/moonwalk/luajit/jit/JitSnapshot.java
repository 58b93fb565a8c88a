package io.moonwalk.luajit.jit;

import java.util.Arrays;
import java.util.List;

/**
 * The JIT state of one VM (one {@code global_State}) at one moment, read from outside the process.
 * Immutable. Areas are sorted by address, traces by number.
 *
 * @param pid             the process
 * @param g               the VM's {@code global_State} address (the VM identity)
 * @param takenNanos      {@link System#nanoTime()} when the read finished
 * @param flags           {@code J->flags} (bit 0: JIT on)
 * @param traceState      {@code J->state} (0 idle, 0x10.. recording/assembling)
 * @param vmstate         {@code g->vmstate} at read time (>= 0: running trace number, < 0: interpreter, C, GC...)
 * @param areas           every mcode area of the chain at {@code J->mcarea}
 * @param szallmcarea     {@code J->szallmcarea}: bytes of all areas (equals the sum of their sizes)
 * @param mcarea          {@code J->mcarea}: the current area (head of the chain), 0 if none
 * @param mcbot           {@code J->mcbot}: low end of the free space in the current area
 * @param mctop           {@code J->mctop}: high end of the free space in the current area
 * @param sizetrace       {@code J->sizetrace}: length of the trace array
 * @param traces          the live traces that passed validation
 * @param rejectedTraces  non-empty trace slots that failed validation (torn or corrupt)
 */
public record JitSnapshot(int pid, long g, long takenNanos, int flags, int traceState, int vmstate, int[] params,
                          List<McodeArea> areas, long szallmcarea, long mcarea, long mcbot, long mctop, int sizetrace,
                          List<TraceInfo> traces, int rejectedTraces) {
    /** {@code JIT_F_ON} in {@code J->flags}. */
    public static final int JIT_F_ON = 1;

    public JitSnapshot {
        if (params.length != JitParam.COUNT) {
            throw new IllegalArgumentException("need " + JitParam.COUNT + " JIT parameters, got " + params.length);
        }
        params = params.clone();
        areas = List.copyOf(areas);
        traces = List.copyOf(traces);
    }

    /** A copy of {@code J->param[]}, in {@link JitParam} order. */
    @Override
    public int[] params() {
        return params.clone();
    }

    public int param(JitParam p) {
        return params[p.ordinal()];
    }

    public boolean jitOn() {
        return (flags & JIT_F_ON) != 0;
    }

    public int liveTraces() {
        return traces.size();
    }

    public int sideTraces() {
        int n = 0;
        for (TraceInfo t : traces) {
            if (t.isSide()) {
                n++;
            }
        }
        return n;
    }

    /** Bytes of machine code held by live traces. */
    public long mcodeBytesInTraces() {
        long n = 0;
        for (TraceInfo t : traces) {
            n += t.szmcode();
        }
        return n;
    }

    /** Bytes of mcode areas allocated (what {@code maxmcode} limits). */
    public long mcodeBytesAllocated() {
        return szallmcarea;
    }

    /** The area containing {@code address}, or null. */
    public McodeArea areaOf(long address) {
        for (McodeArea a : areas) {
            if (a.contains(address)) {
                return a;
            }
        }
        return null;
    }

    /** The live trace with this number, or null. */
    public TraceInfo trace(int traceno) {
        for (TraceInfo t : traces) {
            if (t.traceno() == traceno) {
                return t;
            }
        }
        return null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JitSnapshot s && pid == s.pid && g == s.g && takenNanos == s.takenNanos
                && flags == s.flags && traceState == s.traceState && vmstate == s.vmstate
                && Arrays.equals(params, s.params) && areas.equals(s.areas) && szallmcarea == s.szallmcarea
                && mcarea == s.mcarea && mcbot == s.mcbot && mctop == s.mctop && sizetrace == s.sizetrace
                && traces.equals(s.traces) && rejectedTraces == s.rejectedTraces;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(g) * 31 + Long.hashCode(takenNanos) * 17 + traces.hashCode();
    }

    @Override
    public String toString() {
        return "JitSnapshot[pid=" + pid + ", g=0x" + Long.toHexString(g) + ", jit=" + (jitOn() ? "on" : "off")
                + ", traces=" + traces.size() + " (" + sideTraces() + " side, " + rejectedTraces + " rejected)"
                + ", areas=" + areas.size() + ", mcode=" + szallmcarea + " B, params=" + Arrays.toString(params) + "]";
    }
}
