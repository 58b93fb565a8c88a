package io.moonwalk.agent.daemon;

import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import io.moonwalk.interpreter.InterpreterStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A window's JIT trace aborts as a profile of their own (sample type {@code trace_aborts}, unit {@code count}): one
 * sample per abort site, its stack the site's Lua frame ({@code function (chunk:line)} of the trace's start), its
 * attributes the VM ({@code luajit.vm}) and LuaJIT's reason ({@code luajit.abort_reason}). A profile rather than
 * attributes on the CPU profile: profiling backends show any sample type as a flame graph and a top table, so the
 * busiest abort sites read like the busiest functions, and a reason can be filtered on like any sample attribute;
 * attributes of a profile are shown by none.
 */
final class AbortProfile {
    private AbortProfile() {
    }

    /** The abort profile of {@code window} from the plugins' site counts of it, or null when no abort was counted. */
    static Profile of(Profile window, List<InterpreterStats.SiteCount> sites) {
        Map<Integer, ProcessIdentity> processes = null;
        List<Profile.Entry> entries = new ArrayList<>();
        for (InterpreterStats.SiteCount c : sites) {
            if (!WindowAbortSites.EVENT.equals(c.event()) || c.count() <= 0) {
                continue;
            }
            if (processes == null) {
                processes = new HashMap<>();
                for (Profile.Entry e : window.entries()) {
                    processes.putIfAbsent(e.process().pid(), e.process());
                }
            }
            // a VM that aborted but was not sampled in this window: its pid is all the window knows
            ProcessIdentity p = processes.getOrDefault(c.pid(), new ProcessIdentity(c.pid(), "pid " + c.pid(), "", ""));
            entries.add(new Profile.Entry(p, "", List.of(c.frame()), c.labels(), c.count()));
        }
        return entries.isEmpty() ? null
                : new Profile(window.startEpochNanos(), window.durationNanos(), 0, entries, SampleType.TRACE_ABORTS);
    }
}
