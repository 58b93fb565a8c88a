package io.moonwalk.agent.web;

import io.moonwalk.agent.output.ScriptSafeJson;
import io.moonwalk.agent.store.ProfileKind;
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
 * lower bound. With the samples come the interpreter VMs' health values the windows carry (traces,
 * mcode bytes and their limit, flushes per bucket) for at most {@value #MAX_VMS} VMs, on the same
 * buckets so the charts line up with the timeline, and the JIT trace-abort sites of the windows summed over the
 * timeline ({@value #MAX_ABORT_ROWS} busiest; the windows keep their own busiest sites only).
 */
final class TimelineData {
    static final int MAX_BUCKETS = 720;
    static final int MAX_STATE_SERIES = 6;
    static final int MAX_VMS = 8;
    static final int MAX_ABORT_ROWS = 20;
    /** Distinct (VM, site, reason) summed at most: a day of windows keeps at most 172,800 entries. */
    static final int MAX_ABORT_KEYS = 4096;

    private record AbortKey(String vm, String site, String reason) {
    }
    /** Meter name suffixes of the JIT health charts, in the JSON's order. */
    private static final String[] METERS = {"traces", "mcode.bytes", "max.mcode.bytes", "flushes"};

    private TimelineData() {
    }

    /** Script-safe JSON: {@code {t:[s], total:[rate], series:[{name, values}]}}; null rates are gaps. */
    static String json(List<WindowSummary> windows, int pid) {
        return json(windows, pid, true);
    }

    /** As {@link #json(List, int)}; without the JIT health ({@code jit} empty) when {@code jit} is false. */
    static String json(List<WindowSummary> windows, int pid, boolean jit) {
        return json(windows, pid, jit, ProfileKind.CPU);
    }

    /**
     * As {@link #json(List, int, boolean)} for the windows of a store of {@code kind}: an off-CPU store's values are
     * blocked nanoseconds (rates in milliseconds blocked per second), an mmap store's are calls (calls per second);
     * {@code unit} says which.
     */
    static String json(List<WindowSummary> windows, int pid, boolean jit, ProfileKind kind) {
        String unit = switch (kind) {
            case CPU -> "samples/s";
            case OFF_CPU -> "ms blocked/s";
            case MMAP -> "calls/s";
        };
        double scale = kind == ProfileKind.OFF_CPU ? 1e-6 : 1;
        if (windows.isEmpty()) {
            return "{\"unit\":\"" + unit + "\",\"t\":[],\"total\":[],\"series\":[],\"jit\":[],\"aborts\":[]}";
        }
        long first = windows.getFirst().startMillis();
        long last = windows.getLast().endMillis();
        long longest = 1000;
        for (WindowSummary w : windows) {
            longest = Math.max(longest, w.durationMillis());
        }
        long width = Math.max(longest, (last - first + MAX_BUCKETS - 1) / MAX_BUCKETS);
        int n = (int) Math.max(1, Math.min(MAX_BUCKETS, (last - first + width - 1) / width));
        long[] covered = new long[n];
        long[] total = new long[n];
        long[] proc = new long[n];
        Map<String, long[]> states = new HashMap<>();
        Map<String, Long> stateTotals = new HashMap<>();
        Map<String, double[][]> vms = new java.util.TreeMap<>(); // "pid/vm" -> meter -> bucket value
        Map<AbortKey, long[]> aborts = new HashMap<>(); // -> {count, windows, last window end}
        for (WindowSummary w : windows) {
            for (WindowSummary.AbortSite a : jit ? w.aborts() : List.<WindowSummary.AbortSite>of()) {
                AbortKey k = new AbortKey(a.vm(), a.site(), a.reason());
                long[] v = aborts.get(k);
                if (v == null) {
                    if (aborts.size() >= MAX_ABORT_KEYS) {
                        continue;
                    }
                    v = new long[3];
                    aborts.put(k, v);
                }
                v[0] += a.count();
                v[1]++;
                v[2] = Math.max(v[2], w.endMillis());
            }
            int b = (int) Math.min(n - 1, (w.startMillis() - first) / width);
            covered[b] += w.durationMillis();
            total[b] += w.samples();
            WindowSummary.ProcessSamples ps = w.processes().get(pid);
            if (ps != null) {
                proc[b] += ps.samples();
            }
            for (WindowSummary.VmHealth h : jit ? w.vms() : List.<WindowSummary.VmHealth>of()) {
                double[][] v = vms.get(h.vm());
                if (v == null) {
                    if (vms.size() >= MAX_VMS) {
                        continue;
                    }
                    v = new double[METERS.length][n];
                    for (double[] row : v) {
                        java.util.Arrays.fill(row, Double.NaN);
                    }
                    vms.put(h.vm(), v);
                }
                // the bucket's last window: levels at the bucket's end
                v[0][b] = h.traces();
                v[1][b] = h.mcodeBytes();
                v[2][b] = h.maxMcodeBytes();
                v[3][b] = h.flushes();
            }
            for (var s : w.vmStates().entrySet()) {
                states.computeIfAbsent(s.getKey(), k -> new long[n])[b] += s.getValue();
                stateTotals.merge(s.getKey(), s.getValue(), Long::sum);
            }
        }
        StringBuilder sb = new StringBuilder(32 * n);
        sb.append("{\"unit\":\"").append(unit).append("\",\"t\":[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append((first + i * width) / 1000.0);
        }
        sb.append("],\"total\":");
        rates(sb, total, covered, scale);
        sb.append(",\"series\":[");
        boolean firstSeries = true;
        if (pid != 0) {
            sb.append("{\"name\":\"pid ").append(pid).append("\",\"values\":");
            rates(sb, proc, covered, scale);
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
            rates(sb, states.get(s), covered, scale);
            sb.append('}');
            firstSeries = false;
        }
        sb.append("],\"jit\":[");
        boolean firstVm = true;
        for (var vm : vms.entrySet()) {
            sb.append(firstVm ? "" : ",").append("{\"vm\":");
            ScriptSafeJson.appendString(sb, vm.getKey());
            double[][] v = vm.getValue();
            for (int m = 0; m < METERS.length; m++) {
                sb.append(",\"").append(METERS[m].replace(".", "_")).append("\":[");
                double prev = Double.NaN;
                for (int i = 0; i < n; i++) {
                    double x = v[m][i];
                    if (m == 3 && !Double.isNaN(x)) { // flushes: a counter; the chart shows each bucket's increase
                        double inc = Double.isNaN(prev) ? 0 : x >= prev ? x - prev : x; // below prev: counter restarted
                        prev = x;
                        x = inc;
                    }
                    sb.append(i == 0 ? "" : ",").append(Double.isNaN(x) ? "null" : Long.toString(Math.round(x)));
                }
                sb.append(']');
            }
            sb.append('}');
            firstVm = false;
        }
        sb.append("],\"aborts\":[");
        List<Map.Entry<AbortKey, long[]>> rows = aborts.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).limit(MAX_ABORT_ROWS).toList();
        for (int i = 0; i < rows.size(); i++) {
            AbortKey k = rows.get(i).getKey();
            long[] v = rows.get(i).getValue();
            sb.append(i == 0 ? "{\"vm\":" : ",{\"vm\":");
            ScriptSafeJson.appendString(sb, k.vm());
            sb.append(",\"site\":");
            ScriptSafeJson.appendString(sb, k.site());
            sb.append(",\"reason\":");
            ScriptSafeJson.appendString(sb, k.reason());
            sb.append(",\"count\":").append(v[0]).append(",\"windows\":").append(v[1]).append(",\"last\":")
                    .append(v[2] / 1000.0).append('}');
        }
        sb.append("]}");
        return sb.toString();
    }

    private static void rates(StringBuilder sb, long[] samples, long[] covered, double scale) {
        sb.append('[');
        for (int i = 0; i < samples.length; i++) {
            sb.append(i == 0 ? "" : ",");
            if (covered[i] == 0) {
                sb.append("null");
            } else {
                sb.append(Math.round(samples[i] * scale * 10_000.0 / covered[i]) / 10.0);
            }
        }
        sb.append(']');
    }
}
