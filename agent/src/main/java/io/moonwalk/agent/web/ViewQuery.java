package io.moonwalk.agent.web;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.WindowSummary;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The flame-graph view's query string: {@code from}, {@code to} (epoch ms; default: the last
 * {@value #DEFAULT_SPAN_MINUTES} minutes), {@code pid} (0 or absent = every process) and
 * {@code vmstate} (absent = every state).
 */
record ViewQuery(long fromMillis, long toMillis, int pid, String vmState) {
    static final int DEFAULT_SPAN_MINUTES = 15;

    static ViewQuery parse(String rawQuery, long nowMillis) {
        Map<String, String> q = new HashMap<>();
        if (rawQuery != null) {
            for (String part : rawQuery.split("&")) {
                int eq = part.indexOf('=');
                if (eq > 0) {
                    q.put(URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
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
        return new ViewQuery(from, to, (int) pid, vm);
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
