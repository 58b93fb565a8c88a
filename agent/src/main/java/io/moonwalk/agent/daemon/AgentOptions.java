package io.moonwalk.agent.daemon;

import io.moonwalk.agent.collect.ProcessSelector;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * How the daemon samples and cuts windows.
 *
 * @param hz              samples per second per CPU
 * @param pids            kernel PID filter; empty = whole host
 * @param selector        agent-side filters (executable, container, cgroup)
 * @param interval        nominal window length (= export interval)
 * @param jitter          each window lasts interval * (1 ± jitter), so agents started together spread out
 * @param ringBufferBytes BPF ring buffer size
 * @param shutdownTimeout bound on delivering the last window at SIGTERM
 * @param offCpuMinNanos  0: no off-CPU profile; else each window also carries the waits of at least this long
 *                        ({@code --off-cpu})
 * @param mmapIntervalNanos 0: no mmap event profile; else each window also carries the mmap/munmap/mprotect calls
 *                        of LuaJIT processes, walked at most once per this interval per process ({@code --mmap-events})
 */
public record AgentOptions(int hz, Set<Integer> pids, ProcessSelector selector, Duration interval, double jitter,
                           int ringBufferBytes, Duration shutdownTimeout, long offCpuMinNanos, long mmapIntervalNanos) {
    /** Without the off-CPU profile. */
    public AgentOptions(int hz, Set<Integer> pids, ProcessSelector selector, Duration interval, double jitter,
                        int ringBufferBytes, Duration shutdownTimeout) {
        this(hz, pids, selector, interval, jitter, ringBufferBytes, shutdownTimeout, 0, 0);
    }

    /** With or without the off-CPU profile, no mmap events. */
    public AgentOptions(int hz, Set<Integer> pids, ProcessSelector selector, Duration interval, double jitter,
                        int ringBufferBytes, Duration shutdownTimeout, long offCpuMinNanos) {
        this(hz, pids, selector, interval, jitter, ringBufferBytes, shutdownTimeout, offCpuMinNanos, 0);
    }

    public AgentOptions {
        if (mmapIntervalNanos < 0) {
            throw new IllegalArgumentException("mmap event interval " + mmapIntervalNanos + " ns is negative");
        }
        if (offCpuMinNanos < 0) {
            throw new IllegalArgumentException("off-CPU minimum block time " + offCpuMinNanos + " ns is negative");
        }
        pids = Set.copyOf(pids);
        Objects.requireNonNull(selector, "selector");
        if (interval.toMillis() < 100) {
            throw new IllegalArgumentException("window interval " + interval.toMillis() + " ms is below 100 ms");
        }
        if (!(jitter >= 0 && jitter < 0.5)) {
            throw new IllegalArgumentException("jitter " + jitter + " must be in [0, 0.5)");
        }
    }

    /** The length of the next window, drawn with {@code random} in [0, 1). */
    public long nextWindowNanos(double random) {
        double factor = 1 + jitter * (2 * random - 1);
        return (long) (interval.toNanos() * factor);
    }
}
