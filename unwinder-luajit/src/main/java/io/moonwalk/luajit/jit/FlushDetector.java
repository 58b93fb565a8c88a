package io.moonwalk.luajit.jit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compares consecutive snapshots of one VM and tells the agent what changed: a flush ({@code jit.flush()} or
 * mcode exhaustion: {@code lj_trace_flushall} clears every trace slot and unmaps every area) and the areas
 * added or removed (each change means the LPM routes of this VM must be re-synced).
 *
 * <p>A flush is recognised by any of: an area vanished (only a flush or VM close unmaps areas);
 * {@code szallmcarea} shrank; the free space of the same current area grew (traces are carved top-down from
 * {@code mctop} and exit stubs bottom-up from {@code mcbot}, and neither moves back except when the area is
 * freed and a new one lands at the same address); or every previous trace is gone (slot empty, or holding a
 * different GCtrace or different mcode). The last one can in principle also happen without a flush, when the
 * GC frees every previously live trace individually within one interval. A flush followed by recompilation of identical traces into the identical addresses within one interval is
 * indistinguishable from no flush — and harmless for routing, which then needs no change; such a flush is
 * simply not counted. Not thread-safe: one per VM.
 */
public final class FlushDetector {
    private JitSnapshot last;
    private long flushes;
    private long areaChanges;
    private long tracesCompiled;
    private long firstNanos;

    /** What changed between the previous snapshot and this one. */
    public record Change(boolean flushed, List<McodeArea> added, List<McodeArea> removed, int tracesBefore,
                         int tracesNow) {
        public Change {
            added = List.copyOf(added);
            removed = List.copyOf(removed);
        }

        /** Whether the VM's mcode-area routes must be re-installed. */
        public boolean resyncAreas() {
            return !added.isEmpty() || !removed.isEmpty();
        }
    }

    /**
     * Feeds the next snapshot of this VM and returns the change since the previous one (the first snapshot
     * reports all its areas as added).
     */
    public Change observe(JitSnapshot now) {
        JitSnapshot prev = last;
        if (prev != null && (prev.g() != now.g() || prev.pid() != now.pid())) {
            throw new IllegalArgumentException("FlushDetector is per VM: got g 0x" + Long.toHexString(now.g())
                    + " pid " + now.pid() + " after g 0x" + Long.toHexString(prev.g()) + " pid " + prev.pid());
        }
        last = now;
        if (prev == null) {
            firstNanos = now.takenNanos();
            if (!now.areas().isEmpty()) {
                areaChanges++;
            }
            return new Change(false, now.areas(), List.of(), 0, now.liveTraces());
        }
        Set<McodeArea> before = new HashSet<>(prev.areas());
        Set<McodeArea> after = new HashSet<>(now.areas());
        List<McodeArea> added = new ArrayList<>();
        List<McodeArea> removed = new ArrayList<>();
        for (McodeArea a : now.areas()) {
            if (!before.contains(a)) {
                added.add(a);
            }
        }
        for (McodeArea a : prev.areas()) {
            if (!after.contains(a)) {
                removed.add(a);
            }
        }
        boolean areaReset = prev.mcarea() != 0 && now.mcarea() == prev.mcarea()
                && (Long.compareUnsigned(now.mctop(), prev.mctop()) > 0
                || Long.compareUnsigned(now.mcbot(), prev.mcbot()) < 0);
        boolean flushed = !removed.isEmpty() || now.szallmcarea() < prev.szallmcarea() || areaReset
                || allTracesGone(prev, now);
        tracesCompiled += newTraces(prev, now);
        if (flushed) {
            flushes++;
        }
        if (!added.isEmpty() || !removed.isEmpty()) {
            areaChanges++;
        }
        return new Change(flushed, added, removed, prev.liveTraces(), now.liveTraces());
    }

    /**
     * Traces in {@code now} that were not in {@code prev}: a trace number LuaJIT handed out (again) since, holding a
     * different trace (GCtrace, mcode or start differ). Trace numbers are reused — the lowest free one is taken,
     * and a flush frees them all — so a trace compiled and freed between the two reads is not seen.
     */
    private static int newTraces(JitSnapshot prev, JitSnapshot now) {
        Map<Integer, TraceInfo> before = new HashMap<>();
        for (TraceInfo t : prev.traces()) {
            before.put(t.traceno(), t);
        }
        int n = 0;
        for (TraceInfo t : now.traces()) {
            TraceInfo was = before.get(t.traceno());
            if (was == null || was.address() != t.address() || was.mcode() != t.mcode()
                    || was.startpt() != t.startpt() || was.startpc() != t.startpc()) {
                n++;
            }
        }
        return n;
    }

    private static boolean allTracesGone(JitSnapshot prev, JitSnapshot now) {
        if (prev.traces().isEmpty()) {
            return false;
        }
        Map<Integer, TraceInfo> byNumber = new HashMap<>();
        for (TraceInfo t : now.traces()) {
            byNumber.put(t.traceno(), t);
        }
        for (TraceInfo t : prev.traces()) {
            TraceInfo same = byNumber.get(t.traceno());
            if (same != null && same.address() == t.address() && same.mcode() == t.mcode()
                    && same.startpt() == t.startpt()) {
                return false;
            }
        }
        return true;
    }

    /** Flushes detected so far. */
    public long flushes() {
        return flushes;
    }

    /**
     * Traces seen compiled since the first snapshot (that one's traces predate tracking and are not counted): the
     * traces of each snapshot that the previous one did not hold. A lower bound when traces are compiled and freed
     * (flushed, or their function collected) between two reads — in a flush storm most are.
     */
    public long tracesCompiled() {
        return tracesCompiled;
    }

    /** Nanoseconds between the first and the latest snapshot: the span the counters cover. */
    public long trackedNanos() {
        return last == null ? 0 : last.takenNanos() - firstNanos;
    }

    /** Snapshots whose area list differed from the previous one (including the first non-empty one). */
    public long areaChanges() {
        return areaChanges;
    }

    /** The most recent snapshot, or null. */
    public JitSnapshot last() {
        return last;
    }
}
