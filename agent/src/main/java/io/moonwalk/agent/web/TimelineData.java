package io.moonwalk.agent.web;

import io.moonwalk.agent.output.ScriptSafeJson;
import io.moonwalk.agent.store.WindowSummary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CPU timeline of the whole store as chart data, built from the windows' summaries only (no
 * window file is read): samples per second in at most {@value #MAX_BUCKETS} buckets, in total,
 * for one process (when the view names one) and per LuaJIT VM state (the
 * {@value #MAX_STATE_SERIES} most frequent). A process is counted in a window only when it was
 * among the window's busiest ({@link WindowSummary#MAX_PROCESSES}), so a quiet process's line is a
 * lower bound.
 */
final class TimelineData {
    static final int MAX_BUCKETS = 720;
    static final int MAX_STATE_SERIES = 6;

    private TimelineData() {
    }

    /** Script-safe JSON: {@code {t:[s], total:[rate], series:[{name, values}]}}; null rates are gaps. */
    static String json(List<WindowSummary> windows, int pid) {
        if (windows.isEmpty()) {
            return "{\"t\":[],\"total\":[],\"series\":[]}";
        }
        long first = windows.getFirst().startMillis();
        long last = windows.getLast().endMillis();
        long longest = 1000;
        for (WindowSummary w : windows) {
            longest = Math.max(longest, w.durationMillis());
        }
        long width = Math.max(longest, (last - first + MAX_BUCKETS - 1) / MAX_BUCKETS);
        int n = (int) Math.min(MAX_BUCKETS + 1, (last - first) / width + 1);
        long[] covered = new long[n];
        long[] total = new long[n];
        long[] proc = new long[n];
        Map<String, long[]> states = new HashMap<>();
        Map<String, Long> stateTotals = new HashMap<>();
        for (WindowSummary w : windows) {
            int b = (int) Math.min(n - 1, (w.startMillis() - first) / width);
            covered[b] += w.durationMillis();
            total[b] += w.samples();
            WindowSummary.ProcessSamples ps = w.processes().get(pid);
            if (ps != null) {
                proc[b] += ps.samples();
            }
            for (var s : w.vmStates().entrySet()) {
                states.computeIfAbsent(s.getKey(), k -> new long[n])[b] += s.getValue();
                stateTotals.merge(s.getKey(), s.getValue(), Long::sum);
            }
        }
        StringBuilder sb = new StringBuilder(32 * n);
        sb.append("{\"t\":[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append((first + i * width) / 1000.0);
        }
        sb.append("],\"total\":");
        rates(sb, total, covered);
        sb.append(",\"series\":[");
        boolean firstSeries = true;
        if (pid != 0) {
            sb.append("{\"name\":\"pid ").append(pid).append("\",\"values\":");
            rates(sb, proc, covered);
            sb.append('}');
            firstSeries = false;
        }
        List<String> top = stateTotals.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .limit(MAX_STATE_SERIES).map(Map.Entry::getKey).toList();
        for (String s : top) {
            sb.append(firstSeries ? "" : ",").append("{\"name\":");
            ScriptSafeJson.appendString(sb, "VM " + s);
            sb.append(",\"values\":");
            rates(sb, states.get(s), covered);
            sb.append('}');
            firstSeries = false;
        }
        sb.append("]}");
        return sb.toString();
    }

    private static void rates(StringBuilder sb, long[] samples, long[] covered) {
        sb.append('[');
        for (int i = 0; i < samples.length; i++) {
            sb.append(i == 0 ? "" : ",");
            if (covered[i] == 0) {
                sb.append("null");
            } else {
                sb.append(Math.round(samples[i] * 10_000.0 / covered[i]) / 10.0);
            }
        }
        sb.append(']');
    }
}
