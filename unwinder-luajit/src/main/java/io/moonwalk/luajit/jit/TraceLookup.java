package io.moonwalk.luajit.jit;

import io.moonwalk.elf.UnsignedSearch;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Which trace's machine code contains a PC: the userspace fallback when {@code g->vmstate} names a trace whose
 * mcode does not contain the sampled PC (linked traces, trace entry and exit). Built once per snapshot; the
 * lookup is a binary search over parallel primitive arrays and allocates nothing.
 */
public final class TraceLookup {
    /** Returned by {@link #indexOf} when no trace contains the PC. */
    public static final int NONE = -1;

    private final long[] starts;
    private final long[] ends;
    private final int[] tracenos;
    private final int[] spadjusts;
    private final int[] roots;

    private TraceLookup(List<TraceInfo> sorted) {
        int n = sorted.size();
        starts = new long[n];
        ends = new long[n];
        tracenos = new int[n];
        spadjusts = new int[n];
        roots = new int[n];
        for (int i = 0; i < n; i++) {
            TraceInfo t = sorted.get(i);
            starts[i] = t.mcode();
            ends[i] = t.mcodeEnd();
            tracenos[i] = t.traceno();
            spadjusts[i] = t.spadjust();
            roots[i] = t.root();
        }
    }

    /**
     * A lookup over the snapshot's traces. Overlapping mcode ranges cannot happen in one consistent LuaJIT
     * state; if a torn read produced them, the later-starting trace wins for the overlap.
     */
    public static TraceLookup of(JitSnapshot s) {
        return of(s.traces());
    }

    public static TraceLookup of(List<TraceInfo> traces) {
        TraceInfo[] a = traces.toArray(new TraceInfo[0]);
        Arrays.sort(a, Comparator.comparing(TraceInfo::mcode, Long::compareUnsigned));
        return new TraceLookup(Arrays.asList(a));
    }

    public int size() {
        return starts.length;
    }

    /** Index of the trace whose {@code [mcode, mcode + szmcode)} contains {@code pc}, or {@link #NONE}. */
    public int indexOf(long pc) {
        int found = UnsignedSearch.floor(starts, pc); // last start <= pc, or -1
        return found != NONE && Long.compareUnsigned(pc, ends[found]) < 0 ? found : NONE;
    }

    /** Trace number containing {@code pc}, or 0 (never a trace number) if none. */
    public int tracenoAt(long pc) {
        int i = indexOf(pc);
        return i == NONE ? 0 : tracenos[i];
    }

    public int traceno(int index) {
        return tracenos[index];
    }

    public int spadjust(int index) {
        return spadjusts[index];
    }

    public int root(int index) {
        return roots[index];
    }

    public long mcode(int index) {
        return starts[index];
    }

    public long mcodeEnd(int index) {
        return ends[index];
    }
}
