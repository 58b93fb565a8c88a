package io.moonwalk.agent.daemon;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import java.util.Objects;

/**
 * One closed window as the sinks get it: the CPU profile and, with {@code --off-cpu}, the off-CPU profile of the
 * same time span (blocked nanoseconds per stack).
 *
 * @param cpu    the CPU profile
 * @param offCpu the off-CPU profile, or null when the agent records none (no {@code --off-cpu}, or no wait long
 *               enough since it started)
 */
public record Window(Profile cpu, Profile offCpu) {
    public Window {
        Objects.requireNonNull(cpu, "cpu");
        if (offCpu != null && !offCpu.sampleType().equals(SampleType.OFF_CPU)) {
            throw new IllegalArgumentException("the off-CPU profile of a window measures " + offCpu.sampleType());
        }
    }
}
