package io.moonwalk.agent.web;

import io.moonwalk.agent.store.ProfileKind;
import io.moonwalk.agent.store.ProfileStore;
import io.moonwalk.agent.store.WindowSummary;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The store's front page: the CPU timeline of the whole store (drag across it to open the flame
 * graph of that range), a form choosing process and VM state, the processes seen (busiest first)
 * and the recent windows. Built from the store's index only: no window file is read. Inline
 * script and styles, no network.
 */
final class IndexPage {
    static final int MAX_WINDOW_ROWS = 200;
    static final int MAX_PROCESS_ROWS = 200;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private IndexPage() {
    }

    /** A process's command and samples summed over the store (mutable: 17,280 windows add to it). */
    private static final class Proc {
        String command;
        long samples;

        String command() {
            return command;
        }

        long samples() {
            return samples;
        }
    }

    /**
     * The page of {@code store}: the CPU store, or with {@code --off-cpu} / {@code --mmap-events} an event store (its
     * values are blocked nanoseconds, shown as time, or mapping calls). The toggle offers the kinds the agent records
     * ({@code kinds}), and is left out when that is CPU alone.
     */
    static String render(ProfileStore store, Set<ProfileKind> kinds, long nowMillis) {
        ProfileKind kind = store.kind();
        String typeParam = kind == ProfileKind.CPU ? "" : "&amp;type=" + kind.id();
        List<WindowSummary> windows = store.windows();
        Map<Integer, Proc> all = new HashMap<>();
        TreeSet<String> vmStates = new TreeSet<>();
        for (WindowSummary w : windows) {
            for (var e : w.processes().entrySet()) {
                Proc p = all.computeIfAbsent(e.getKey(), k -> new Proc());
                p.command = e.getValue().command();
                p.samples += e.getValue().samples();
            }
            vmStates.addAll(w.vmStates().keySet());
        }
        Map<Integer, Proc> procs = new TreeMap<>(all);
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>moonwalk agent</title>")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ")
                .append("style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">")
                .append(WebAssets.HEAD)
                .append("<style>body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}")
                .append("table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:2px 10px;text-align:left;")
                .append("border-bottom:1px solid #ddd}td.n{text-align:right}form{margin:1em 0;padding:.8em;background:#f4f4f4}")
                .append("label{margin-right:1em}</style></head><body>")
                .append("<h1>moonwalk agent</h1>").append(toggle(kind, kinds)).append("<p>")
                .append(windows.size()).append(" stored windows, ").append(store.totalBytes()).append(" bytes in ")
                .append(Html.escape(store.directory().toString())).append(" (bounds: ").append(store.maxBytes())
                .append(" bytes, ").append(store.maxAge().toMinutes()).append(" min). Times are UTC. ")
                .append("<a href=\"/metrics\">metrics</a> · <a href=\"/readyz\">readiness</a></p>");

        h.append(switch (kind) {
            case CPU -> "<h2>CPU timeline</h2>";
            case OFF_CPU -> "<h2>Off-CPU timeline (time blocked)</h2>";
            case MMAP -> "<h2>mmap calls timeline (mmap, munmap, mprotect of LuaJIT processes)</h2>";
        })
                .append("<div id=\"timeline\"></div><p>Drag across the chart to open the flame graph of")
                .append(" that range for the process and VM state chosen below.</p>");
        h.append("<form id=\"view\" action=\"/flamegraph\" method=\"get\"><input type=\"hidden\" name=\"from\" value=\"")
                .append(nowMillis - ViewQuery.DEFAULT_SPAN_MINUTES * 60_000L).append("\"><input type=\"hidden\" name=\"to\" value=\"")
                .append(nowMillis + 1).append("\">")
                .append(kind == ProfileKind.CPU ? "" : "<input type=\"hidden\" name=\"type\" value=\"" + kind.id() + "\">");
        long oldest = windows.isEmpty() ? nowMillis : windows.getFirst().startMillis();
        h.append("<label>Process <select name=\"pid\"><option value=\"0\">all processes</option>");
        for (var p : procs.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().samples(), a.getValue().samples()))
                .limit(MAX_PROCESS_ROWS).toList()) {
            h.append("<option value=\"").append(p.getKey()).append("\">").append(Html.escape(p.getValue().command()))
                    .append(" (pid ").append(p.getKey()).append(")</option>");
        }
        h.append("</select></label><label>VM state <select name=\"vmstate\"><option value=\"\">all states</option>");
        for (String s : vmStates) {
            h.append("<option value=\"").append(Html.escape(s)).append("\">").append(Html.escape(s)).append("</option>");
        }
        h.append("</select></label><button type=\"submit\">Flame graph of the last "
                + ViewQuery.DEFAULT_SPAN_MINUTES + " minutes</button></form>");
        h.append("<script type=\"application/json\" id=\"timeline-data\">").append(TimelineData.json(windows, 0, false, kind))
                .append("</script><script>(function () {\n")
                .append("var T = JSON.parse(document.getElementById('timeline-data').textContent);\n")
                .append("moonwalkTimeline(document.getElementById('timeline'), T, null, function (from, to) {\n")
                .append("  var f = document.getElementById('view');\n")
                .append("  f.elements.from.value = from; f.elements.to.value = to; f.submit();\n")
                .append("});\ndocument.documentElement.setAttribute('data-render', 'ok');\n})();</script>");

        String valueHeader = switch (kind) {
            case CPU -> "samples";
            case OFF_CPU -> "time blocked";
            case MMAP -> "calls";
        };
        h.append("<h2>Processes</h2><table id=\"processes\"><tr><th>pid</th><th>command</th><th>").append(valueHeader)
                .append("</th><th></th></tr>");
        procs.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue().samples(), a.getValue().samples()))
                .limit(MAX_PROCESS_ROWS)
                .forEach(p -> h.append("<tr><td class=\"n\">").append(p.getKey()).append("</td><td>")
                        .append(Html.escape(p.getValue().command())).append("</td><td class=\"n\">")
                        .append(value(p.getValue().samples(), kind)).append("</td><td><a href=\"/flamegraph?from=").append(oldest)
                        .append("&amp;to=").append(nowMillis + 1).append("&amp;pid=").append(p.getKey()).append(typeParam)
                        .append("\">flame graph</a></td></tr>"));
        h.append("</table><h2>Recent windows</h2><table id=\"windows\"><tr><th>start (UTC)</th><th>length</th>")
                .append("<th>").append(valueHeader).append("</th><th>processes</th><th>bytes</th><th></th></tr>");
        for (int i = windows.size() - 1; i >= 0 && i >= windows.size() - MAX_WINDOW_ROWS; i--) {
            WindowSummary w = windows.get(i);
            h.append("<tr><td>").append(TIME.format(Instant.ofEpochMilli(w.startMillis()))).append("</td><td class=\"n\">")
                    .append(String.format("%.1f s", w.durationMillis() / 1000.0)).append("</td><td class=\"n\">")
                    .append(value(w.samples(), kind)).append("</td><td class=\"n\">").append(w.processes().size())
                    .append("</td><td class=\"n\">").append(w.bytes()).append("</td><td><a href=\"/flamegraph?from=")
                    .append(w.startMillis()).append("&amp;to=").append(w.endMillis()).append(typeParam)
                    .append("\">flame graph</a></td></tr>");
        }
        h.append("</table></body></html>\n");
        return h.toString();
    }

    /** A CPU value is a sample count, an mmap value a call count; an off-CPU value is blocked nanoseconds, in ms. */
    private static String value(long v, ProfileKind kind) {
        return kind == ProfileKind.OFF_CPU ? String.format("%.1f ms", v / 1e6) : Long.toString(v);
    }

    /**
     * Links to the pages of the kinds the agent records ({@code kinds}), the current one bold; nothing when it records
     * CPU alone.
     */
    private static String toggle(ProfileKind current, Set<ProfileKind> kinds) {
        if (kinds.size() < 2) {
            return "";
        }
        StringBuilder sb = new StringBuilder("<p id=\"type-toggle\">Profile:");
        String sep = " ";
        for (ProfileKind k : kinds) {
            String id = "type-" + k.id();
            sb.append(sep).append(k == current ? "<b id=\"" + id + "\">" + k.title() + "</b>"
                    : "<a id=\"" + id + "\" href=\"/" + (k == ProfileKind.CPU ? "" : "?type=" + k.id()) + "\">"
                    + k.title() + "</a>");
            sep = " · ";
        }
        return sb.append("</p>").toString();
    }

    /**
     * The pages of a kind the agent does not record ({@code kind}: off-CPU or mmap; a bookmark or a typed URL): what
     * it is and how to turn it on.
     */
    static String kindOff(ProfileKind kind, Set<ProfileKind> kinds) {
        String what = switch (kind) {
            case CPU -> throw new IllegalArgumentException("CPU profiles are always recorded");
            case OFF_CPU -> "<p id=\"offcpu-off\">The off-CPU profile is off: this agent records only where threads"
                    + " run on CPU. To see where they block (Lua stack at the moment a worker went off CPU, and for how"
                    + " long), start it with <code>--off-cpu</code> (waits of 1 ms or more; <code>--off-cpu 5ms</code>"
                    + " for another minimum), or set <code>off-cpu = 1ms</code> in the config file or"
                    + " <code>MOONWALK_OFF_CPU=1ms</code> in its environment, then restart it.</p>";
            case MMAP -> "<p id=\"mmap-off\">The mmap event profile is off. To see which Lua code makes LuaJIT map"
                    + " and unmap memory (the mmap, munmap and mprotect calls of an mcode allocation storm, with the"
                    + " calling Lua stack), start it with <code>--mmap-events</code> (a stack at most every 10 ms per"
                    + " process; <code>--mmap-events 1ms</code> for more), or set <code>mmap-events = 10ms</code> in"
                    + " the config file or <code>MOONWALK_MMAP_EVENTS=10ms</code> in its environment, then restart"
                    + " it.</p>";
        };
        // a static page, rendered as it arrives (data-render: what the browser tests wait for)
        return "<!doctype html><html lang=\"en\" data-render=\"ok\"><head><meta charset=\"utf-8\">"
                + "<title>moonwalk agent: " + kind.title() + "</title>"
                + "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
                + "<style>body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}code{background:#f4f4f4}</style>"
                + "</head><body><h1>moonwalk agent</h1>" + toggle(null, kinds) + what + "</body></html>\n";
    }
}
