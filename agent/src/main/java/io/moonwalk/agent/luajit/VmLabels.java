package io.moonwalk.agent.luajit;

import java.util.HashMap;
import java.util.Map;

/**
 * Per-sample LuaJIT labels: {@code luajit.vm_state} (what {@code g->vmstate} said: interpreted, c, gc, exit,
 * record, optimize, assemble, compiled) and {@code luajit.vm} (a small stable id per (pid, global_State),
 * {@code vm1}, {@code vm2}, ... in order of first appearance). Encoded into the raw stack table's 64-bit label
 * key so that aggregation stays allocation-free. Ids are kept for at most {@link #MAX_VMS} VMs; later ones
 * share the label {@code vm?}. Not thread-safe: the drain thread assigns, the window end decodes.
 */
public final class VmLabels {
    public static final String VM_STATE = "luajit.vm_state";
    public static final String VM = "luajit.vm";
    public static final int MAX_VMS = 1 << 16;
    private static final long PRESENT = 1L << 63;

    private record Vm(int pid, long g) {
    }

    private final Map<Vm, Integer> ids = new HashMap<>();
    private int overflow;
    private int nextId = 1;

    /** The label key of a sample of {@code pid} in VM {@code g} (0: not in LuaJIT, no labels). */
    public long key(int pid, long g, int vmstate) {
        if (g == 0) {
            return 0;
        }
        Vm vm = new Vm(pid, g);
        Integer id = ids.get(vm);
        if (id == null) {
            if (ids.size() >= MAX_VMS || nextId > 0x7fff_ffff - 1) {
                overflow++;
                id = 0;
            } else {
                id = nextId++;
                ids.put(vm, id);
            }
        }
        // trace numbers (vmstate >= 0) all mean "compiled": one key for them keeps stacks aggregated
        long state = vmstate >= 0 ? 0 : vmstate & 0xffL;
        return PRESENT | (long) id << 8 | state;
    }

    /** The labels of a key from {@link #key}. */
    public Map<String, String> labels(long key) {
        if ((key & PRESENT) == 0) {
            return Map.of();
        }
        int id = (int) ((key >>> 8) & 0xffff_ffffL);
        int state = (int) (key & 0xff);
        return Map.of(VM_STATE, stateName(state == 0 ? 0 : (byte) state), VM, id == 0 ? "vm?" : "vm" + id);
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
    public long overflow() {
        return overflow;
    }

    /** Forgets the VMs of an exited process (its ids are not reused). */
    public void forget(int pid) {
        ids.keySet().removeIf(v -> v.pid() == pid);
    }
}
