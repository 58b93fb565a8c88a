package io.moonwalk.luajit.plugin;

import io.moonwalk.interpreter.InterpreterStats.Measurement;
import io.moonwalk.luajit.abort.VmAborts;
import io.moonwalk.luajit.gc.GcHeap;
import io.moonwalk.luajit.jit.JitHealth;
import io.moonwalk.luajit.sync.VmLabels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Per-VM LuaJIT JIT health series ({@code moonwalk_luajit_*{pid,vm}}, {@code vm} the samples' {@code luajit.vm} id),
 * one set per (process, global_State) the mcode
 * sync reads. The set of VMs changes while the agent runs; the core removes the series of VMs that leave the
 * snapshot, so the series count is bounded by the live VMs, at most {@link #MAX_VMS}: VMs already exported keep
 * their series, new ones beyond the bound get none (counted in {@code moonwalk_luajit_vms_unexported}).
 */
final class JitHealthSeries {
    /** Series bound: VMs beyond this many get no series. */
    static final int MAX_VMS = 256;

    private record Vm(int pid, long g) {
    }

    private final Set<Vm> exported = new LinkedHashSet<>(); // guarded by this
    private final VmLabels names;
    private long unexported; // guarded by this

    JitHealthSeries(VmLabels names) {
        this.names = names;
    }

    /** The series of {@code health} (every live VM), plus the unexported-VM gauge. */
    synchronized List<Measurement> measurements(List<JitHealth> health) {
        return measurements(health, List.of(), List.of());
    }

    /**
     * The series of {@code health} and of the GC heaps and trace aborts of the same VMs, plus the unexported-VM
     * gauge.
     */
    synchronized List<Measurement> measurements(List<JitHealth> health, List<GcHeap> heaps,
            List<VmAborts.Summary> aborts) {
        Map<Vm, GcHeap> heapOf = new HashMap<>();
        for (GcHeap h : heaps) {
            heapOf.put(new Vm(h.pid(), h.g()), h);
        }
        Map<Vm, VmAborts.Summary> abortsOf = new HashMap<>();
        for (VmAborts.Summary a : aborts) {
            abortsOf.put(new Vm(a.pid(), a.g()), a);
        }
        List<JitHealth> sorted = new ArrayList<>(health);
        sorted.sort(Comparator.comparingInt(JitHealth::pid).thenComparingLong(JitHealth::g));
        Set<Vm> live = new LinkedHashSet<>();
        for (JitHealth h : sorted) {
            live.add(new Vm(h.pid(), h.g()));
        }
        exported.retainAll(live);
        List<Measurement> out = new ArrayList<>();
        long refused = 0;
        for (JitHealth h : sorted) {
            Vm vm = new Vm(h.pid(), h.g());
            if (!exported.contains(vm)) {
                if (exported.size() >= MAX_VMS) {
                    refused++;
                    continue;
                }
                exported.add(vm);
            }
            // vm: the id the samples' luajit.vm label carries (vm1, ...), never the global_State address: a memory
            // address in a label value leaks the target's layout to every metrics reader
            Map<String, String> tags = Map.of("pid", Integer.toString(vm.pid()), "vm", names.name(vm.pid(), vm.g()));
            out.add(gauge("moonwalk.luajit.traces", "live JIT traces of the VM", tags, h, JitHealth::liveTraces));
            out.add(gauge("moonwalk.luajit.side.traces", "live side traces of the VM", tags, h, JitHealth::sideTraces));
            out.add(gauge("moonwalk.luajit.max.traces", "maxtrace parameter of the VM", tags, h, JitHealth::maxTrace));
            out.add(gauge("moonwalk.luajit.mcode.bytes", "bytes of the VM's mcode areas", tags, h, JitHealth::mcodeBytes));
            out.add(gauge("moonwalk.luajit.max.mcode.bytes", "maxmcode parameter of the VM, in bytes", tags, h,
                    JitHealth::maxMcodeBytes));
            out.add(gauge("moonwalk.luajit.mcode.areas", "mcode areas of the VM", tags, h, JitHealth::areas));
            out.add(gauge("moonwalk.luajit.jit.enabled", "1 while the VM's JIT is on", tags, h, x -> x.jitOn() ? 1 : 0));
            out.add(Measurement.counter("moonwalk.luajit.flushes",
                    "JIT flushes detected in the VM since the agent began tracking it", tags, h.flushes()));
            out.add(Measurement.counter("moonwalk.luajit.traces.compiled",
                    "JIT traces seen compiled in the VM since the agent began tracking it (a lower bound in a flush"
                            + " storm)", tags, h.tracesCompiled()));
            VmAborts.Summary ab = abortsOf.get(vm);
            if (ab != null) {
                out.add(Measurement.counter("moonwalk.luajit.vm.trace.aborts",
                        "root-trace aborts of the VM counted from its penalty cache", tags, ab.total()));
            }
            GcHeap heap = heapOf.get(vm);
            if (heap != null) {
                out.add(Measurement.gauge("moonwalk.luajit.gc.bytes",
                        "bytes the VM's GC heap holds (collectgarbage(\"count\") x 1024)", tags, heap.bytes()));
                out.add(Measurement.gauge("moonwalk.luajit.gc.threshold.bytes",
                        "GC heap size at which the VM's next collection step runs", tags, heap.threshold()));
                out.add(Measurement.gauge("moonwalk.luajit.gc.state",
                        "phase of the VM's collector: 0 pause, 1 propagate, 2 atomic, 3 sweepstring, 4 sweep,"
                                + " 5 finalize", tags, heap.state()));
            }
        }
        unexported = refused;
        out.add(Measurement.gauge("moonwalk.luajit.vms.unexported",
                "LuaJIT VMs without health meters (series bound reached)", Map.of(), refused));
        return out;
    }

    /** VMs in the last snapshot that got no series because {@link #MAX_VMS} were exported. */
    synchronized long unexported() {
        return unexported;
    }

    /** VMs with series. */
    synchronized int exported() {
        return exported.size();
    }

    private static Measurement gauge(String name, String help, Map<String, String> tags, JitHealth h,
            ToDoubleFunction<JitHealth> f) {
        return Measurement.gauge(name, help, tags, f.applyAsDouble(h));
    }
}
