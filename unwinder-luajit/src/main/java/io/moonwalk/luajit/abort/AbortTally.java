package io.moonwalk.luajit.abort;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns successive reads of one VM's penalty cache into abort counts. LuaJIT keeps no abort counter, but each
 * root-trace abort at a start bytecode leaves a mark: a site's first abort takes a slot with value
 * {@link PenaltySlot#MIN}; each further abort doubles the value and adds 0..15; the abort that would pass
 * {@link PenaltySlot#MAX} blacklists the instruction instead. So the aborts between two reads of a slot are the
 * doublings between the two values (floor(log2(new/old)); the random bits never reach another doubling since the
 * value is at least 72), plus one for a site newly taken into the slot, plus one for a new blacklisting.
 *
 * <p>What it cannot see (documented, not guessed): aborts of side traces (LuaJIT penalizes those in the parent
 * trace, not here), {@code retry recording} aborts (no penalty), and a site that took and lost a slot between two
 * reads (more than 64 new sites in one second). The first read of a VM counts what its cache holds then, i.e.
 * aborts from before the agent tracked it. Not thread-safe; one per VM.
 */
public final class AbortTally {
    /** Aborts at one site since the previous read. */
    public record Aborts(long pc, int reason, int count, boolean blacklisted) {
    }

    private final PenaltySlot[] previous = new PenaltySlot[PenaltyCache.SLOTS];
    private final long[] byReason = new long[TraceErrors.count() + 1];
    private long total;

    /** The aborts since the last call, one entry per site that aborted. */
    public List<Aborts> observe(PenaltyCache cache) {
        List<Aborts> out = new ArrayList<>();
        for (int i = 0; i < PenaltyCache.SLOTS; i++) {
            PenaltySlot cur = cache.slots().get(i);
            PenaltySlot prev = previous[i];
            previous[i] = cur;
            if (!cur.used()) {
                continue;
            }
            int n;
            if (prev == null || !prev.used() || prev.pc() != cur.pc() || cur.val() < prev.val()) {
                // a site new to this slot (or the same site again after a flush cleared the cache)
                n = 1 + doublings(PenaltySlot.MIN, cur.val()) + (cur.blacklisted() ? 1 : 0);
            } else {
                n = doublings(prev.val(), cur.val()) + (cur.blacklisted() && !prev.blacklisted() ? 1 : 0);
            }
            if (n > 0) {
                out.add(new Aborts(cur.pc(), cur.reason(), n, cur.blacklisted()));
                byReason[Math.min(cur.reason(), TraceErrors.count())] += n;
                total += n;
            }
        }
        return out;
    }

    /** floor(log2(to / from)) for 0 < from <= to: the number of times from was doubled (plus noise) into to. */
    static int doublings(int from, int to) {
        int k = 0;
        for (long v = from; 2 * v <= to; v *= 2) {
            k++;
        }
        return k;
    }

    /** Aborts counted for {@code reason} ({@link TraceErrors#count()} = any reason outside the table). */
    public long count(int reason) {
        return byReason[Math.min(Math.max(reason, 0), TraceErrors.count())];
    }

    public long total() {
        return total;
    }
}
