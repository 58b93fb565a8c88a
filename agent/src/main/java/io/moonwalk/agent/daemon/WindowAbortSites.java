package io.moonwalk.agent.daemon;

import io.moonwalk.agent.store.WindowSummary;
import io.moonwalk.interpreter.InterpreterStats;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A window's JIT trace-abort sites the store keeps with it for the web view: the plugins' site counts of event
 * {@value #EVENT} ({@link InterpreterStats#windowSites}, taken when the window was named), busiest first, at most
 * {@link WindowSummary#MAX_ABORT_SITES}.
 */
final class WindowAbortSites {
    /** The event (sample type) name of trace aborts. */
    static final String EVENT = "trace_aborts";
    static final String VM_LABEL = "luajit.vm";
    static final String REASON_LABEL = "luajit.abort_reason";

    private WindowAbortSites() {
    }

    static List<WindowSummary.AbortSite> of(List<InterpreterStats.SiteCount> sites) {
        List<WindowSummary.AbortSite> all = new ArrayList<>();
        for (InterpreterStats.SiteCount c : sites) {
            if (EVENT.equals(c.event()) && c.count() > 0) {
                all.add(new WindowSummary.AbortSite(c.pid() + "/" + c.labels().getOrDefault(VM_LABEL, "?"),
                        c.frame().displayName(), c.labels().getOrDefault(REASON_LABEL, "other"), c.count()));
            }
        }
        all.sort(Comparator.comparingLong(WindowSummary.AbortSite::count).reversed()
                .thenComparing(WindowSummary.AbortSite::vm).thenComparing(WindowSummary.AbortSite::site));
        return List.copyOf(all.subList(0, Math.min(all.size(), WindowSummary.MAX_ABORT_SITES)));
    }
}
