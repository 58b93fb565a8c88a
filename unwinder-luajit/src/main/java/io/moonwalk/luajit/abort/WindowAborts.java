package io.moonwalk.luajit.abort;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One VM's trace aborts within the current window, by site: added to as the sync thread counts them
 * ({@link VmAborts#observe}), cut at each window's end into that window's top list. Bounded: at most
 * {@link #MAX_SITES} sites a window; aborts at further sites count in the window's total and reasons only. Not
 * thread-safe: the owner synchronizes.
 */
public final class WindowAborts {
    public static final int MAX_SITES = 256;

    private static final class Site {
        String reason;
        long count;
        boolean blacklisted;
    }

    private final Map<SiteName, Site> sites = new LinkedHashMap<>();
    private final Map<String, Long> byReason = new HashMap<>();
    private long total;

    /** {@code count} aborts at {@code site}, the last with {@code reason}. */
    public void add(SiteName site, String reason, long count, boolean blacklisted) {
        total += count;
        byReason.merge(reason, count, Long::sum);
        Site s = sites.get(site);
        if (s == null) {
            if (sites.size() >= MAX_SITES) {
                return;
            }
            s = new Site();
            sites.put(site, s);
        }
        s.reason = reason;
        s.count += count;
        s.blacklisted = blacklisted;
    }

    /** The window's aborts with its {@code n} busiest sites (most first, ties by name), and a new empty window. */
    public VmAborts.Summary cut(int pid, long g, int n) {
        List<AbortSite> all = new ArrayList<>(sites.size());
        sites.forEach((name, s) -> all.add(new AbortSite(name, s.reason, s.count, s.blacklisted)));
        all.sort(Comparator.comparingLong(AbortSite::count).reversed().thenComparing(a -> a.site().display()));
        VmAborts.Summary out = new VmAborts.Summary(pid, g, total, byReason, all.subList(0, Math.min(n, all.size())));
        sites.clear();
        byReason.clear();
        total = 0;
        return out;
    }

    public boolean isEmpty() {
        return total == 0;
    }
}
