package io.moonwalk.agent.web;

import io.moonwalk.agent.store.ProfileStore;
import io.moonwalk.agent.store.WindowSummary;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The store's front page: a form choosing time range, process and VM state for the flame graph,
 * the processes seen (busiest first) and the recent windows. Plain HTML, no script, no network.
 */
final class IndexPage {
    static final int MAX_WINDOW_ROWS = 200;
    static final int MAX_PROCESS_ROWS = 200;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private IndexPage() {
    }

    private record Proc(String command, long samples) {
    }

    static String render(ProfileStore store, long nowMillis) {
        List<WindowSummary> windows = store.windows();
        Map<Integer, Proc> procs = new TreeMap<>();
        TreeSet<String> vmStates = new TreeSet<>();
        for (WindowSummary w : windows) {
            w.processes().forEach((pid, ps) -> procs.merge(pid, new Proc(ps.command(), ps.samples()),
                    (a, b) -> new Proc(b.command(), a.samples() + b.samples())));
            vmStates.addAll(w.vmStates().keySet());
        }
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>moonwalk agent</title>")
                .append("<style>body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}")
                .append("table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:2px 10px;text-align:left;")
                .append("border-bottom:1px solid #ddd}td.n{text-align:right}form{margin:1em 0;padding:.8em;background:#f4f4f4}")
                .append("label{margin-right:1em}</style></head><body>")
                .append("<h1>moonwalk agent</h1><p>")
                .append(windows.size()).append(" stored windows, ").append(store.totalBytes()).append(" bytes in ")
                .append(Html.escape(store.directory().toString())).append(" (bounds: ").append(store.maxBytes())
                .append(" bytes, ").append(store.maxAge().toMinutes()).append(" min). Times are UTC. ")
                .append("<a href=\"/metrics\">metrics</a> · <a href=\"/readyz\">readiness</a></p>");

        h.append("<form id=\"view\" action=\"/flamegraph\" method=\"get\"><label>From <select name=\"from\">");
        long oldest = windows.isEmpty() ? nowMillis : windows.getFirst().startMillis();
        for (int i = 0; i < windows.size(); i++) {
            WindowSummary w = windows.get(i);
            h.append("<option value=\"").append(w.startMillis()).append('"').append(i == 0 ? " selected" : "").append('>')
                    .append(TIME.format(Instant.ofEpochMilli(w.startMillis()))).append("</option>");
        }
        h.append("</select></label><label>To <select name=\"to\">");
        for (int i = windows.size() - 1; i >= 0; i--) {
            WindowSummary w = windows.get(i);
            h.append("<option value=\"").append(w.endMillis()).append('"').append(i == windows.size() - 1 ? " selected" : "")
                    .append('>').append(TIME.format(Instant.ofEpochMilli(w.endMillis()))).append("</option>");
        }
        h.append("</select></label><label>Process <select name=\"pid\"><option value=\"0\">all processes</option>");
        for (var p : procs.entrySet()) {
            h.append("<option value=\"").append(p.getKey()).append("\">").append(Html.escape(p.getValue().command()))
                    .append(" (pid ").append(p.getKey()).append(")</option>");
        }
        h.append("</select></label><label>VM state <select name=\"vmstate\"><option value=\"\">all states</option>");
        for (String s : vmStates) {
            h.append("<option value=\"").append(Html.escape(s)).append("\">").append(Html.escape(s)).append("</option>");
        }
        h.append("</select></label><button type=\"submit\">Show flame graph</button></form>");

        h.append("<h2>Processes</h2><table id=\"processes\"><tr><th>pid</th><th>command</th><th>samples</th><th></th></tr>");
        procs.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue().samples(), a.getValue().samples()))
                .limit(MAX_PROCESS_ROWS)
                .forEach(p -> h.append("<tr><td class=\"n\">").append(p.getKey()).append("</td><td>")
                        .append(Html.escape(p.getValue().command())).append("</td><td class=\"n\">")
                        .append(p.getValue().samples()).append("</td><td><a href=\"/flamegraph?from=").append(oldest)
                        .append("&amp;to=").append(nowMillis + 1).append("&amp;pid=").append(p.getKey())
                        .append("\">flame graph</a></td></tr>"));
        h.append("</table><h2>Recent windows</h2><table id=\"windows\"><tr><th>start (UTC)</th><th>length</th>")
                .append("<th>samples</th><th>processes</th><th>bytes</th><th></th></tr>");
        for (int i = windows.size() - 1; i >= 0 && i >= windows.size() - MAX_WINDOW_ROWS; i--) {
            WindowSummary w = windows.get(i);
            h.append("<tr><td>").append(TIME.format(Instant.ofEpochMilli(w.startMillis()))).append("</td><td class=\"n\">")
                    .append(String.format("%.1f s", w.durationMillis() / 1000.0)).append("</td><td class=\"n\">")
                    .append(w.samples()).append("</td><td class=\"n\">").append(w.processes().size())
                    .append("</td><td class=\"n\">").append(w.bytes()).append("</td><td><a href=\"/flamegraph?from=")
                    .append(w.startMillis()).append("&amp;to=").append(w.endMillis()).append("\">flame graph</a></td></tr>");
        }
        h.append("</table></body></html>\n");
        return h.toString();
    }
}
