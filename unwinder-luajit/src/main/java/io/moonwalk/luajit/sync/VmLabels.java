package io.moonwalk.luajit.sync;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-sample LuaJIT labels: {@code luajit.vm_state} (what {@code g->vmstate} said: interpreted, c, gc, exit,
 * record, optimize, assemble, compiled) and {@code luajit.vm} (a small stable id per (pid, global_State),
 * {@code vm1}, {@code vm2}, ... in order of first appearance). Encoded into the raw stack table's 64-bit label
 * key so that aggregation stays allocation-free. Ids are kept for at most {@link #MAX_VMS} VMs; later ones
 * share the label {@code vm?}. The drain thread assigns, the window end decodes, and the stats (any thread) name
 * VMs by the same id in the JIT health meters ({@link #name}): the id table is a concurrent map.
 */
public final class VmLabels {
    public static final String VM_STATE = "luajit.vm_state";
    public static final String VM = "luajit.vm";
    /** The compiled trace a sample ran in (its number), and whether it is a {@code root} or {@code side} trace. */
    public static final String TRACE = "luajit.trace";
    public static final String TRACE_KIND = "luajit.trace_kind";
    /** Where the trace starts ({@code name (chunk:line)} of its start function); set by the symbolizer. */
    public static final String TRACE_START = "luajit.trace_start";
    public static final int MAX_VMS = 1 << 16;
    private static final long PRESENT = 1L << 63;
    private static final long TRACE_PRESENT = 1L << 62;
    private static final long SIDE = 1L << 61;
    private static final int TRACE_SHIFT = 40;
    private static final long MAX_ID = 0xffff_ffffL;

    private record Vm(int pid, long g) {
    }

    private final Map<Vm, Integer> ids = new ConcurrentHashMap<>();
    private int overflow; // guarded by this
    private int nextId = 1; // guarded by this

    /** The label key of a sample of {@code pid} in VM {@code g} (0: not in LuaJIT, no labels). */
    public long key(int pid, long g, int vmstate) {
        return key(pid, g, vmstate, 0, false);
    }

    /**
     * The label key of a sample of {@code pid} in VM {@code g}, running in trace {@code traceno} (0: none or
     * unknown; {@code side}: a side trace).
     */
    public long key(int pid, long g, int vmstate, int traceno, boolean side) {
        if (g == 0) {
            return 0;
        }
        int id = id(pid, g);
        // trace numbers (vmstate >= 0) all mean "compiled": the trace is its own label
        long state = vmstate >= 0 ? 0 : vmstate & 0xffL;
        long trace = traceno <= 0 ? 0 : TRACE_PRESENT | (long) (traceno & 0xffff) << TRACE_SHIFT
                | (side ? SIDE : 0);
        return PRESENT | trace | (long) id << 8 | state;
    }

    /** The id of VM {@code g} of {@code pid}, assigned at its first use (0: the shared id, the table is full). */
    private int id(int pid, long g) {
        Vm vm = new Vm(pid, g);
        Integer id = ids.get(vm);
        if (id != null) {
            return id;
        }
        synchronized (this) {
            id = ids.get(vm);
            if (id != null) {
                return id;
            }
            if (ids.size() >= MAX_VMS || nextId == Integer.MAX_VALUE) {
                overflow++;
                return 0;
            }
            ids.put(vm, nextId);
            return nextId++;
        }
    }

    /**
     * The {@code luajit.vm} value of VM {@code g} of {@code pid} ({@code vm1}, ...; {@code vm?} past {@link #MAX_VMS}),
     * the same one its samples carry. Any thread.
     */
    public String name(int pid, long g) {
        int id = id(pid, g);
        return id == 0 ? "vm?" : "vm" + id;
    }

    /** The labels of a key from {@link #key}. */
    public Map<String, String> labels(long key) {
        if ((key & PRESENT) == 0) {
            return Map.of();
        }
        int id = (int) ((key >>> 8) & MAX_ID);
        int state = (int) (key & 0xff);
        String vm = id == 0 ? "vm?" : "vm" + id;
        String stateName = stateName(state == 0 ? 0 : (byte) state);
        if ((key & TRACE_PRESENT) == 0) {
            return Map.of(VM_STATE, stateName, VM, vm);
        }
        return Map.of(VM_STATE, stateName, VM, vm, TRACE, Integer.toString((int) (key >>> TRACE_SHIFT) & 0xffff),
                TRACE_KIND, (key & SIDE) != 0 ? "side" : "root");
    }

    /** jit.p's categories, spelled out. */
    public static String stateName(int vmstate) {
        if (vmstate >= 0) {
            return "compiled";
        }
        return switch (vmstate) {
            case -1 -> "interpreted";
            case -2 -> "c";
            case -3 -> "gc";
            case -4 -> "exit";
            case -5 -> "record";
            case -6 -> "optimize";
            case -7 -> "assemble";
            default -> "unknown";
        };
    }

    /** VMs that got the shared id because {@link #MAX_VMS} were already known. */
    public synchronized long overflow() {
        return overflow;
    }

    /** Forgets the VMs of an exited process (its ids are not reused). */
    public void forget(int pid) {
        ids.keySet().removeIf(v -> v.pid() == pid);
    }
}
