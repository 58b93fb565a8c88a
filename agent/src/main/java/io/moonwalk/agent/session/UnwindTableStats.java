package io.moonwalk.agent.session;

import io.moonwalk.unwinder.cfi.UnwindTableCache;

/** The shared unwind tables' counters at one moment (see the README's {@code moonwalk_unwind_tables_*}). */
public record UnwindTableStats(long builds, long buildFailures, long refusals, long hits, long negativeHits,
                               long liveTables, long liveEntries) {
    public static final UnwindTableStats NONE = new UnwindTableStats(0, 0, 0, 0, 0, 0, 0);

    static UnwindTableStats of(UnwindTableCache c) {
        return new UnwindTableStats(c.builds(), c.buildFailures(), c.refusals(), c.hits(), c.negativeHits(),
                c.liveTables(), c.liveEntries());
    }
}
