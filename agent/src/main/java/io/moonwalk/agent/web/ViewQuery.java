package io.moonwalk.agent.web;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.ProfileKind;
import io.moonwalk.agent.store.WindowSummary;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The flame-graph view's query string: {@code from}, {@code to} (epoch ms; default: the last
 * {@value #DEFAULT_SPAN_MINUTES} minutes), {@code pid} (0 or absent = every process),
 * {@code vmstate} (absent = every state), and for a diff the baseline range {@code bfrom},
 * {@code bto} (both or neither; 0 = no baseline), {@code type} (a {@link ProfileKind#id()}: {@code cpu}, the
 * default, {@code offcpu} or {@code mmap}: that profile of the same windows).
 */
record ViewQuery(long fromMillis, long toMillis, int pid, String vmState, long baselineFrom, long baselineTo,
                 ProfileKind kind) {
    static final int DEFAULT_SPAN_MINUTES = 15;
    /** A longer query string is not one our pages make. */
    static final int MAX_QUERY = 2048;

    boolean diff() {
        return baselineTo > 0;
    }

    static ViewQuery parse(String rawQuery, long nowMillis) {
        Map<String, String> q = new HashMap<>();
        if (rawQuery != null) {
            if (rawQuery.length() > MAX_QUERY) {
                throw new IllegalArgumentException("query string of " + rawQuery.length() + " characters; at most "
                        + MAX_QUERY);
            }
            for (String part : rawQuery.split("&")) {
                int eq = part.indexOf('=');
                if (eq > 0) {
                    try {
                        q.put(URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8),
                                URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("'" + part + "' is not URL-encoded (" + e.getMessage() + ")");
                    }
                }
            }
        }
        long to = number(q, "to", nowMillis + 1);
        long from = number(q, "from", to - DEFAULT_SPAN_MINUTES * 60_000L);
        if (from > to) {
            throw new IllegalArgumentException("from (" + from + ") is after to (" + to + ")");
        }
        long pid = number(q, "pid", 0);
        if (pid < 0 || pid > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pid " + pid + " is not a process id");
        }
        String vm = q.getOrDefault("vmstate", "");
        if (vm.length() > 64) {
            throw new IllegalArgumentException("vmstate is longer than 64 characters");
        }
        long bto = number(q, "bto", 0);
        long bfrom = number(q, "bfrom", 0);
        if ((bto == 0) != (bfrom == 0) || bfrom > bto || bfrom < 0) {
            throw new IllegalArgumentException("a diff needs both bfrom and bto (epoch ms, bfrom <= bto), got bfrom="
                    + bfrom + " bto=" + bto);
        }
        return new ViewQuery(from, to, (int) pid, vm, bfrom, bto, kind(q));
    }

    /** The {@code type} parameter alone (the index page reads nothing else). */
    static ProfileKind kind(String rawQuery) {
        if (rawQuery == null || rawQuery.length() > MAX_QUERY) {
            return ProfileKind.CPU;
        }
        Map<String, String> q = new HashMap<>();
        for (String part : rawQuery.split("&")) {
            if (part.startsWith("type=")) {
                q.put("type", part.substring(5));
            }
        }
        return kind(q);
    }

    private static ProfileKind kind(Map<String, String> q) {
        String type = q.getOrDefault("type", "cpu");
        ProfileKind k = ProfileKind.byId(type);
        if (k == null) {
            throw new IllegalArgumentException("type '" + (type.length() > 16 ? type.substring(0, 16) + "..." : type)
                    + "' is not cpu, offcpu or mmap");
        }
        return k;
    }

    private static long number(Map<String, String> q, String key, long dflt) {
        String v = q.get(key);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "='" + v + "' is not a whole number");
        }
    }

    Predicate<Profile.Entry> filter() {
        return e -> (pid == 0 || e.process().pid() == pid)
                && (vmState.isEmpty() || vmState.equals(e.labels().get(WindowSummary.VM_STATE)));
    }
}
