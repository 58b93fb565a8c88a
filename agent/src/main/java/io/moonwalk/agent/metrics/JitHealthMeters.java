package io.moonwalk.agent.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.moonwalk.luajit.jit.JitHealth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * Per-VM LuaJIT JIT health meters ({@code moonwalk_luajit_*{pid,vm}}), one set per (process, global_State) the mcode
 * sync reads. The set of VMs changes while the agent runs, so the meters are reconciled with each published
 * snapshot: new VMs get meters, VMs that are gone (process exit, VM closed, dropped after failed reads) lose theirs,
 * which keeps the series count bounded by the live VMs (at most {@link #MAX_VMS}).
 */
final class JitHealthMeters {
    /** Series bound: VMs beyond this many get no meters (counted in {@link #unexported()}). */
    static final int MAX_VMS = 256;

    private record Vm(int pid, long g) {
    }

    private final MeterRegistry registry;
    /** The latest health per VM; the gauges read it at scrape time. */
    private final Map<Vm, JitHealth> current = new ConcurrentHashMap<>();
    private final Map<Vm, List<Meter>> meters = new HashMap<>(); // guarded by this
    private volatile long unexported;

    JitHealthMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Reconciles the meters with {@code snapshot} (the health of every live VM). */
    synchronized void update(List<JitHealth> snapshot) {
        Set<Vm> live = new HashSet<>();
        long refused = 0;
        for (JitHealth h : snapshot) {
            Vm vm = new Vm(h.pid(), h.g());
            if (!meters.containsKey(vm) && meters.size() >= MAX_VMS) {
                refused++;
                continue;
            }
            live.add(vm);
            current.put(vm, h);
            if (!meters.containsKey(vm)) {
                meters.put(vm, register(vm));
            }
        }
        unexported = refused;
        for (var it = meters.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!live.contains(e.getKey())) {
                for (Meter m : e.getValue()) {
                    registry.remove(m);
                }
                current.remove(e.getKey());
                it.remove();
            }
        }
    }

    /** VMs in the last snapshot that got no meters because {@link #MAX_VMS} were exported. */
    long unexported() {
        return unexported;
    }

    /** VMs with meters. */
    synchronized int exported() {
        return meters.size();
    }

    private List<Meter> register(Vm vm) {
        // vm: the global_State address, stable for the VM's life (the samples' luajit.vm ordinal is per collector)
        Tags tags = Tags.of("pid", Integer.toString(vm.pid()), "vm", "0x" + Long.toHexString(vm.g()));
        List<Meter> out = new ArrayList<>();
        out.add(gauge("moonwalk.luajit.traces", "live JIT traces of the VM", vm, tags, JitHealth::liveTraces));
        out.add(gauge("moonwalk.luajit.side.traces", "live side traces of the VM", vm, tags, JitHealth::sideTraces));
        out.add(gauge("moonwalk.luajit.max.traces", "maxtrace parameter of the VM", vm, tags, JitHealth::maxTrace));
        out.add(gauge("moonwalk.luajit.mcode.bytes", "bytes of the VM's mcode areas", vm, tags, JitHealth::mcodeBytes));
        out.add(gauge("moonwalk.luajit.max.mcode.bytes", "maxmcode parameter of the VM, in bytes", vm, tags,
                JitHealth::maxMcodeBytes));
        out.add(gauge("moonwalk.luajit.mcode.areas", "mcode areas of the VM", vm, tags, JitHealth::areas));
        out.add(gauge("moonwalk.luajit.jit.enabled", "1 while the VM's JIT is on", vm, tags, h -> h.jitOn() ? 1 : 0));
        out.add(FunctionCounter.builder("moonwalk.luajit.flushes", current, c -> value(c, vm, JitHealth::flushes))
                .tags(tags).description("JIT flushes detected in the VM since the agent began tracking it")
                .register(registry));
        return out;
    }

    private Meter gauge(String name, String help, Vm vm, Tags tags, ToDoubleFunction<JitHealth> f) {
        return Gauge.builder(name, current, c -> value(c, vm, f)).tags(tags).description(help).strongReference(true)
                .register(registry);
    }

    private static double value(Map<Vm, JitHealth> current, Vm vm, ToDoubleFunction<JitHealth> f) {
        JitHealth h = current.get(vm);
        return h == null ? Double.NaN : f.applyAsDouble(h);
    }
}
