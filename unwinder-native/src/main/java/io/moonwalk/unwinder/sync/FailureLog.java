package io.moonwalk.unwinder.sync;

import java.lang.System.Logger.Level;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Logs each distinct failure once (a file without CFI is reported when first seen, not at every sync of every
 * process that maps it) and counts every occurrence. Remembers at most {@link #MAX_KEYS} distinct failures;
 * beyond that new ones are counted but no longer logged, so a storm of distinct failures cannot grow memory.
 */
public final class FailureLog {
    public static final int MAX_KEYS = 4096;
    private static final System.Logger LOG = System.getLogger(FailureLog.class.getName());

    private final Set<String> seen = new LinkedHashSet<>();
    private long occurrences;
    private long unlogged;

    /** @param key what makes two failures the same (e.g. "no CFI:" + file identity) */
    public synchronized void report(String key, String message) {
        occurrences++;
        if (seen.contains(key)) {
            return;
        }
        if (seen.size() >= MAX_KEYS) {
            unlogged++;
            return;
        }
        seen.add(key);
        LOG.log(Level.WARNING, message);
    }

    public synchronized long occurrences() {
        return occurrences;
    }

    public synchronized int distinct() {
        return seen.size();
    }

    /** Distinct failures not logged because {@link #MAX_KEYS} were already remembered. */
    public synchronized long unlogged() {
        return unlogged;
    }

    public synchronized boolean seen(String key) {
        return seen.contains(key);
    }
}
