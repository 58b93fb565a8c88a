package io.moonwalk.agent.daemon;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import io.moonwalk.interpreter.InterpreterStats;
import java.util.List;
import java.util.Objects;

/**
 * One closed window as the sinks get it: the CPU profile, with {@code --off-cpu} the off-CPU profile of the same
 * time span (blocked nanoseconds per stack), with {@code --mmap-events} the mmap event profile, and the events the
 * interpreter plugins counted at code sites in it (trace aborts), taken when the window was named.
 *
 * @param cpu    the CPU profile
 * @param offCpu the off-CPU profile, or null when the agent records none (no {@code --off-cpu})
 * @param mmap   the mmap event profile (calls of LuaJIT processes per stack), or null (no {@code --mmap-events})
 * @param sites  the interpreter site counts of the window
 */
public record Window(Profile cpu, Profile offCpu, Profile mmap, List<InterpreterStats.SiteCount> sites) {
    public Window {
        if (mmap != null && !mmap.sampleType().equals(SampleType.MMAP)) {
            throw new IllegalArgumentException("the mmap profile of a window measures " + mmap.sampleType());
        }
        Objects.requireNonNull(cpu, "cpu");
        sites = List.copyOf(sites);
        if (offCpu != null && !offCpu.sampleType().equals(SampleType.OFF_CPU)) {
            throw new IllegalArgumentException("the off-CPU profile of a window measures " + offCpu.sampleType());
        }
    }
}
