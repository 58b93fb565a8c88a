package io.moonwalk.luajit.plugin;

import io.moonwalk.interpreter.InterpreterStats.Measurement;
import io.moonwalk.luajit.abort.AbortSite;
import io.moonwalk.luajit.abort.TraceErrors;
import io.moonwalk.luajit.abort.VmAborts;
import io.moonwalk.luajit.gc.GcHeap;
import io.moonwalk.luajit.lowmem.LowHeadroom;
import io.moonwalk.luajit.sync.McodeSync;
import io.moonwalk.luajit.sync.VmLabels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One stats snapshot of the JIT and memory diagnostics the JIT sync reads beside the JIT state: GC heaps and trace
 * aborts per VM, low-memory headroom per non-GC64 process. Turns them into the host-wide meters (the per-VM ones go
 * through {@link JitHealthSeries}, which bounds the VMs) and into {@code record}'s summary lines.
 */
final class VmDiagnostics {
    private final List<GcHeap> heaps;
    private final List<VmAborts.Summary> aborts;
    private final List<LowHeadroom> headrooms;
    private final long[] abortsByReason;
    private final long heapReadFailures;
    private final long penaltyReadFailures;

    private VmDiagnostics(McodeSync jit) {
        heaps = jit.heaps();
        aborts = jit.aborts();
        headrooms = jit.headrooms();
        abortsByReason = new long[TraceErrors.count() + 1];
        for (int r = 0; r < abortsByReason.length; r++) {
            abortsByReason[r] = jit.abortsByReason(r);
        }
        heapReadFailures = jit.heapReadFailures();
        penaltyReadFailures = jit.penaltyReadFailures();
    }

    static VmDiagnostics of(McodeSync jit) {
        return new VmDiagnostics(jit);
    }

    List<GcHeap> heaps() {
        return heaps;
    }

    List<VmAborts.Summary> aborts() {
        return aborts;
    }

    /** Meters that are not per VM: aborts by reason, low-memory headroom per process, read failures. */
    List<Measurement> hostMeasurements() {
        List<Measurement> m = new ArrayList<>();
        for (int r = 0; r < abortsByReason.length; r++) {
            if (abortsByReason[r] > 0) { // the label set is bounded by the reason table; a reason appears at its first
                m.add(Measurement.counter("moonwalk.luajit.trace.aborts",
                        "root-trace aborts of all LuaJIT VMs, by reason as LuaJIT spells it", Map.of("reason",
                                TraceErrors.label(r)), abortsByReason[r]));
            }
        }
        int shown = 0;
        for (LowHeadroom h : headrooms) {
            if (shown++ == JitHealthSeries.MAX_VMS) {
                break; // the same bound as the per-VM series: one process per VM at most
            }
            String pid = Integer.toString(h.pid());
            m.add(Measurement.gauge("moonwalk.luajit.lowmem.free.bytes",
                    "free bytes of the low range a non-GC64 LuaJIT process allocates its GC heap from",
                    Map.of("pid", pid), h.freeBytes()));
            m.add(Measurement.gauge("moonwalk.luajit.lowmem.largest.gap.bytes", "largest free gap in that low range",
                    Map.of("pid", pid), h.largestGap()));
            m.add(Measurement.gauge("moonwalk.luajit.lowmem.range.bytes", "size of that low range", Map.of("pid", pid),
                    h.rangeBytes()));
            String usedHelp = "bytes of that low range held, by occupant";
            m.add(Measurement.gauge("moonwalk.luajit.lowmem.used.bytes", usedHelp, Map.of("pid", pid, "owner", "brk"),
                    h.brkBytes()));
            m.add(Measurement.gauge("moonwalk.luajit.lowmem.used.bytes", usedHelp,
                    Map.of("pid", pid, "owner", "anonymous"), h.anonBytes()));
            m.add(Measurement.gauge("moonwalk.luajit.lowmem.used.bytes", usedHelp, Map.of("pid", pid, "owner", "file"),
                    h.fileBytes()));
            m.add(Measurement.gauge("moonwalk.luajit.lowmem.used.bytes", usedHelp,
                    Map.of("pid", pid, "owner", "other"), h.otherBytes()));
        }
        m.add(Measurement.counter("moonwalk.luajit.penalty.read.failures",
                "penalty-cache reads of a VM that failed although its JIT state read fine", Map.of(),
                penaltyReadFailures));
        m.add(Measurement.counter("moonwalk.luajit.gc.read.failures",
                "GC heap reads of a VM that failed although its JIT state read fine", Map.of(), heapReadFailures));
        return m;
    }

    /** {@code record}'s lines for one VM: its GC heap and its trace aborts (if any). */
    List<String> vmLines(int pid, long g, VmLabels labels) {
        List<String> out = new ArrayList<>();
        for (GcHeap heap : heaps) {
            if (heap.pid() == pid && heap.g() == g) {
                out.add(String.format("luajit gc pid %d %s: heap %d KB, next step at %d KB, phase %s", pid,
                        labels.name(pid, g), heap.bytes() >> 10, heap.threshold() >> 10, heap.stateName()));
            }
        }
        for (VmAborts.Summary a : aborts) {
            if (a.pid() == pid && a.g() == g && a.total() > 0) {
                out.add(abortLine(labels.name(pid, g), a));
            }
        }
        return out;
    }

    /** {@code record}'s low-memory lines, one per non-GC64 process (a warning when its headroom is low). */
    List<String> processLines() {
        List<String> out = new ArrayList<>();
        for (LowHeadroom h : headrooms) {
            out.add(h.low() ? McodeSync.lowWarning(h) : String.format("luajit pid %d low memory (non-GC64, below"
                    + " 0x%x): %d MiB free, largest gap %d MiB; brk heap %d MiB, anonymous/LuaJIT %d MiB, files %d MiB",
                    h.pid(), h.rangeEnd(), h.freeBytes() >> 20, h.largestGap() >> 20, h.brkBytes() >> 20,
                    h.anonBytes() >> 20, h.fileBytes() >> 20));
        }
        return out;
    }

    /** "luajit trace aborts pid P vmN: N (reason n, ...); top sites: site (reason) xN, ..." for one VM. */
    private static String abortLine(String vm, VmAborts.Summary a) {
        StringBuilder sb = new StringBuilder(String.format("luajit trace aborts pid %d %s: %d (", a.pid(), vm,
                a.total()));
        List<Map.Entry<String, Long>> reasons = new ArrayList<>(a.byReason().entrySet());
        reasons.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        for (int i = 0; i < reasons.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(reasons.get(i).getKey()).append(' ').append(reasons.get(i).getValue());
        }
        sb.append("); top sites:");
        for (int i = 0; i < a.top().size(); i++) {
            AbortSite s = a.top().get(i);
            sb.append(i == 0 ? " " : ", ").append(s.site().display()).append(" (").append(s.reason()).append(") x")
                    .append(s.count()).append(s.blacklisted() ? " blacklisted" : "");
        }
        return sb.toString();
    }
}
