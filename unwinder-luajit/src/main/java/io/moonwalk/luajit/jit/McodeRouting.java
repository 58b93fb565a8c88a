package io.moonwalk.luajit.jit;

import io.moonwalk.unwinder.lpm.LpmPrefixes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * The LPM trie entries that route a process's mcode areas to the Lua walker, each carrying the VM (g) whose
 * area it is: one small set of prefixes per area (areas are page aligned and sized in whole pages, usually
 * 32/64 KB at 64 KB-aligned addresses: one prefix each), never one per trace (docs/architecture.md, non-negotiable 4). Adjacent
 * areas of the same VM — LuaJIT prefers the address just below the previous area — are merged first, which
 * often halves the count. Areas of different VMs that overlap cannot both be right (a torn read): both are
 * left out and counted as conflicts, so that no PC is routed to the wrong VM.
 */
public final class McodeRouting {
    private McodeRouting() {
    }

    /** One trie entry: {@code (pid, address/prefixLength) -> VM g}. */
    public record Route(int pid, long g, int prefixLength, long address) {
        public LpmPrefixes.Prefix prefix() {
            return new LpmPrefixes.Prefix(prefixLength, address);
        }
    }

    /**
     * Everything to install for one process.
     *
     * @param routes    trie entries, sorted by address
     * @param areas     areas routed
     * @param ranges    contiguous same-VM ranges after merging
     * @param conflicts areas left out because they overlap another VM's area
     */
    public record Plan(int pid, List<Route> routes, int areas, int ranges, int conflicts) {
        public Plan {
            routes = List.copyOf(routes);
        }

        /** Trie entries per routed area (0 with no areas). */
        public double entriesPerArea() {
            return areas == 0 ? 0 : (double) routes.size() / areas;
        }
    }

    private record Owned(long g, McodeArea area) {
    }

    /** The plan for all VMs of one process, given their latest snapshots (one per VM). */
    public static Plan plan(int pid, Collection<JitSnapshot> vms) {
        List<Owned> all = new ArrayList<>();
        for (JitSnapshot s : vms) {
            if (s.pid() != pid) {
                throw new IllegalArgumentException("snapshot of pid " + s.pid() + " in the plan for pid " + pid);
            }
            for (McodeArea a : s.areas()) {
                all.add(new Owned(s.g(), a));
            }
        }
        return planAreas(pid, all.stream().map(o -> o.g).toList(), all.stream().map(o -> o.area).toList());
    }

    /**
     * The plan for areas given directly: {@code owners.get(i)} is the g of {@code areas.get(i)}. The scale model
     * and the agent's incremental paths use this form.
     */
    public static Plan planAreas(int pid, List<Long> owners, List<McodeArea> areas) {
        if (owners.size() != areas.size()) {
            throw new IllegalArgumentException(owners.size() + " owners for " + areas.size() + " areas");
        }
        List<Owned> all = new ArrayList<>(areas.size());
        for (int i = 0; i < areas.size(); i++) {
            all.add(new Owned(owners.get(i), areas.get(i)));
        }
        all.sort(Comparator.comparing(o -> o.area.start(), Long::compareUnsigned));
        boolean[] conflict = new boolean[all.size()];
        int conflicts = 0;
        for (int i = 0; i < all.size(); i++) {
            // areas are sorted by start: every area overlapping i starts before i's end
            for (int j = i + 1; j < all.size()
                    && Long.compareUnsigned(all.get(j).area.start(), all.get(i).area.end()) < 0; j++) {
                if (all.get(j).g != all.get(i).g || !all.get(j).area.equals(all.get(i).area)) {
                    conflicts += (conflict[i] ? 0 : 1) + (conflict[j] ? 0 : 1);
                    conflict[i] = true;
                    conflict[j] = true;
                }
            }
        }
        int[] lens = new int[LpmPrefixes.MAX_PREFIXES];
        long[] addrs = new long[LpmPrefixes.MAX_PREFIXES];
        List<Route> routes = new ArrayList<>();
        int routed = 0;
        int ranges = 0;
        long g = 0;
        long start = 0;
        long end = 0;
        boolean open = false;
        for (int i = 0; i < all.size(); i++) {
            Owned o = all.get(i);
            if (conflict[i] || (open && o.area.equals(all.get(i - 1).area))) {
                continue; // duplicate report of the same area by the same VM counts once
            }
            routed++;
            if (open && o.g == g && o.area.start() == end) {
                end = o.area.end();
                continue;
            }
            if (open) {
                ranges++;
                emit(pid, g, start, end, lens, addrs, routes);
            }
            g = o.g;
            start = o.area.start();
            end = o.area.end();
            open = true;
        }
        if (open) {
            ranges++;
            emit(pid, g, start, end, lens, addrs, routes);
        }
        return new Plan(pid, routes, routed, ranges, conflicts);
    }

    private static void emit(int pid, long g, long start, long end, int[] lens, long[] addrs, List<Route> out) {
        int n = LpmPrefixes.split(start, end, lens, addrs);
        for (int k = 0; k < n; k++) {
            out.add(new Route(pid, g, lens[k], addrs[k]));
        }
    }

    /**
     * What routing every trace's {@code [mcode, mcode + szmcode)} separately would cost in trie entries (the
     * approach that exhausted peers' tries): for comparison only.
     */
    public static long perTraceEntries(Collection<TraceInfo> traces) {
        int[] lens = new int[LpmPrefixes.MAX_PREFIXES];
        long[] addrs = new long[LpmPrefixes.MAX_PREFIXES];
        long n = 0;
        for (TraceInfo t : traces) {
            n += LpmPrefixes.split(t.mcode(), t.mcodeEnd(), lens, addrs);
        }
        return n;
    }
}
