package io.moonwalk.luajit.abort;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One VM's trace aborts: the counts by reason ({@link AbortTally}) and by site, with each site named once when it
 * first aborts. Bounded: at most {@link #MAX_SITES} sites; a new site beyond that replaces the one with the fewest
 * aborts (counted in {@link #evictedSites()}). Not thread-safe; the sync thread owns it and publishes copies.
 */
public final class VmAborts {
    public static final int MAX_SITES = 256;

    private static final class Site {
        final SiteName name;
        String reason;
        long count;
        boolean blacklisted;

        Site(SiteName name) {
            this.name = name;
        }
    }

    private final AbortTally tally = new AbortTally();
    private final Map<Long, Site> sites = new HashMap<>();
    private long evicted;
    private PenaltyCache last;

    /** The cache passed to the last {@link #observe}, null before the first. */
    public PenaltyCache last() {
        return last;
    }

    /**
     * Counts the aborts {@code cache} shows since the previous call; new sites are named with {@code namer}.
     * Returns those aborts.
     */
    public List<AbortTally.Aborts> observe(PenaltyCache cache, SiteNamer namer) {
        List<AbortTally.Aborts> fresh = tally.observe(cache);
        last = cache;
        for (AbortTally.Aborts a : fresh) {
            Site s = sites.get(a.pc());
            if (s == null) {
                if (sites.size() >= MAX_SITES) {
                    Long smallest = null;
                    long min = Long.MAX_VALUE;
                    for (Map.Entry<Long, Site> e : sites.entrySet()) {
                        if (e.getValue().count < min) {
                            min = e.getValue().count;
                            smallest = e.getKey();
                        }
                    }
                    sites.remove(smallest);
                    evicted++;
                }
                s = new Site(namer.site(cache.pid(), a.pc()));
                sites.put(a.pc(), s);
            }
            s.reason = TraceErrors.label(a.reason());
            s.blacklisted = a.blacklisted();
            s.count += a.count();
        }
        return fresh;
    }

    /** The name of the site at {@code pc} (after {@link #observe} counted an abort there), or null. */
    public SiteName nameOf(long pc) {
        Site s = sites.get(pc);
        return s == null ? null : s.name;
    }

    public long total() {
        return tally.total();
    }

    /** Aborts by reason label, only reasons that occurred. */
    public Map<String, Long> byReason() {
        Map<String, Long> out = new HashMap<>();
        for (int r = 0; r <= TraceErrors.count(); r++) {
            long n = tally.count(r);
            if (n > 0) {
                out.merge(TraceErrors.label(r), n, Long::sum);
            }
        }
        return out;
    }

    /** The {@code n} sites with the most aborts, most first (ties by name). */
    public List<AbortSite> top(int n) {
        List<AbortSite> all = new ArrayList<>();
        for (Site s : sites.values()) {
            all.add(new AbortSite(s.name, s.reason, s.count, s.blacklisted));
        }
        all.sort(Comparator.comparingLong(AbortSite::count).reversed().thenComparing(a -> a.site().display()));
        return List.copyOf(all.subList(0, Math.min(n, all.size())));
    }

    /** An immutable copy for other threads. */
    public Summary summary(int pid, long g, int topSites) {
        return new Summary(pid, g, total(), byReason(), top(topSites));
    }

    /**
     * One VM's aborts at one moment.
     *
     * @param total    aborts counted since the VM was first read
     * @param byReason aborts by reason label (only reasons that occurred)
     * @param top      the sites with the most aborts, most first
     */
    public record Summary(int pid, long g, long total, Map<String, Long> byReason, List<AbortSite> top) {
        public Summary {
            byReason = Map.copyOf(byReason);
            top = List.copyOf(top);
        }
    }

    public long evictedSites() {
        return evicted;
    }
}
