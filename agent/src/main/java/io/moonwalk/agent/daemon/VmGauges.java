package io.moonwalk.agent.daemon;

import io.moonwalk.agent.store.WindowSummary;
import io.moonwalk.interpreter.InterpreterStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The interpreter VMs' JIT health the store keeps with each window for the web view's charts, taken
 * from the plugins' per-VM meters (tagged {@code pid} and {@code vm}) named
 * {@code moonwalk.<plugin>.traces}, {@code .mcode.bytes}, {@code .max.mcode.bytes} and
 * {@code .flushes}. At most {@link WindowSummary#MAX_VMS} VMs, lowest pid first.
 */
final class VmGauges {
    private static final List<String> METERS = List.of("traces", "mcode.bytes", "max.mcode.bytes", "flushes");

    private VmGauges() {
    }

    private record Key(long pid, String vm) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = Long.compare(pid, o.pid);
            return c != 0 ? c : vm.compareTo(o.vm);
        }
    }

    static List<WindowSummary.VmHealth> of(List<InterpreterStats> stats) {
        Map<Key, float[]> vms = new TreeMap<>();
        for (InterpreterStats in : stats) {
            for (InterpreterStats.Measurement m : in.values()) {
                String pid = m.tags().get("pid");
                String vm = m.tags().get("vm");
                int meter = METERS.indexOf(meter(m.name()));
                if (pid == null || vm == null || meter < 0) {
                    continue;
                }
                long p;
                try {
                    p = Long.parseLong(pid);
                } catch (NumberFormatException e) {
                    continue;
                }
                vms.computeIfAbsent(new Key(p, vm), k -> new float[METERS.size()])[meter] = (float) m.value();
            }
        }
        List<WindowSummary.VmHealth> out = new ArrayList<>();
        for (var e : vms.entrySet()) {
            if (out.size() == WindowSummary.MAX_VMS) {
                break;
            }
            float[] v = e.getValue();
            out.add(new WindowSummary.VmHealth(e.getKey().pid() + "/" + e.getKey().vm(), v[0], v[1], v[2], v[3]));
        }
        return out;
    }

    /** {@code moonwalk.luajit.max.mcode.bytes} -> {@code max.mcode.bytes}: the name after the plugin's. */
    private static String meter(String name) {
        if (!name.startsWith("moonwalk.")) {
            return "";
        }
        int plugin = name.indexOf('.', "moonwalk.".length());
        return plugin < 0 ? "" : name.substring(plugin + 1);
    }
}
