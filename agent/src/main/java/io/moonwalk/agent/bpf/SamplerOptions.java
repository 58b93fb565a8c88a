package io.moonwalk.agent.bpf;

import java.util.Set;

/**
 * How to open a {@link BpfSampler}.
 *
 * @param hz              samples per second per CPU (perf frequency mode)
 * @param pids            tgids to sample; empty samples the whole host
 * @param ringBufferBytes ring buffer size: a power of two, at least one page
 * @param userStacks      collect user stacks (kernel stacks are always collected)
 * @param offCpuMinNanos  0: no off-CPU profile (its programs are not even loaded); else record every wait in a
 *                        system call at least this long, with its stack (events.bpf.c)
 * @param mmapIntervalNanos 0: no mmap event profile (its program is not loaded); else count every mmap, munmap and
 *                        mprotect call of LuaJIT processes and walk the calling stack at most once per this
 *                        interval per process (events.bpf.c)
 */
public record SamplerOptions(int hz, Set<Integer> pids, int ringBufferBytes, boolean userStacks, long offCpuMinNanos,
                             long mmapIntervalNanos) {
    /** The default walk interval of the mmap event profile: at most 100 walked calls per second per process. */
    public static final long DEFAULT_MMAP_INTERVAL_NANOS = 10_000_000L;

    public static final int DEFAULT_HZ = 19;
    public static final int DEFAULT_RING_BUFFER_BYTES = 4 << 20;
    /** Entries of the pid_filter map (MW_PID_FILTER_ENTRIES in bpf/src/sampler.bpf.h). */
    public static final int MAX_PIDS = 4096;
    private static final int MAX_HZ = 10_000;
    private static final int PAGE = 4096;

    /** The options without an off-CPU profile. */
    public SamplerOptions(int hz, Set<Integer> pids, int ringBufferBytes, boolean userStacks) {
        this(hz, pids, ringBufferBytes, userStacks, 0, 0);
    }

    /** The options with an off-CPU profile ({@code offCpuMinNanos} > 0) or without, no mmap events. */
    public SamplerOptions(int hz, Set<Integer> pids, int ringBufferBytes, boolean userStacks, long offCpuMinNanos) {
        this(hz, pids, ringBufferBytes, userStacks, offCpuMinNanos, 0);
    }

    public SamplerOptions {
        if (mmapIntervalNanos < 0) {
            throw new IllegalArgumentException("the mmap event interval cannot be negative: " + mmapIntervalNanos);
        }
        if (offCpuMinNanos < 0) {
            throw new IllegalArgumentException("the off-CPU minimum block time cannot be negative: " + offCpuMinNanos);
        }
        if (hz < 1 || hz > MAX_HZ) {
            throw new IllegalArgumentException("sampling frequency " + hz + " Hz is outside 1.." + MAX_HZ);
        }
        pids = Set.copyOf(pids);
        if (pids.size() > MAX_PIDS) {
            throw new IllegalArgumentException(pids.size() + " pids given; the PID filter holds at most " + MAX_PIDS);
        }
        for (int pid : pids) {
            if (pid <= 0) {
                throw new IllegalArgumentException("pid " + pid + " is not a process id");
            }
        }
        if (ringBufferBytes < PAGE || Integer.bitCount(ringBufferBytes) != 1) {
            throw new IllegalArgumentException("ring buffer size " + ringBufferBytes
                    + " must be a power of two of at least " + PAGE + " bytes (kernel requirement)");
        }
    }

    /** Whether the off-CPU profile is on. */
    public boolean offCpu() {
        return offCpuMinNanos > 0;
    }

    /** These options with the off-CPU profile on for waits of at least {@code minNanos} (0: off). */
    public SamplerOptions withOffCpu(long minNanos) {
        return new SamplerOptions(hz, pids, ringBufferBytes, userStacks, minNanos, mmapIntervalNanos);
    }

    /** Whether the mmap event profile is on. */
    public boolean mmapEvents() {
        return mmapIntervalNanos > 0;
    }

    /** These options with the mmap event profile walking at most once per {@code intervalNanos} per process (0: off). */
    public SamplerOptions withMmapEvents(long intervalNanos) {
        return new SamplerOptions(hz, pids, ringBufferBytes, userStacks, offCpuMinNanos, intervalNanos);
    }

    /** Whether any event probe (events.bpf.c) is on: their walkers are loaded then. */
    public boolean eventProbes() {
        return offCpu() || mmapEvents();
    }

    /** The whole host at {@code hz}, default ring buffer, user stacks on. */
    public static SamplerOptions wholeHost(int hz) {
        return new SamplerOptions(hz, Set.of(), DEFAULT_RING_BUFFER_BYTES, true);
    }

    /** Only {@code pids} at {@code hz}, default ring buffer, user stacks on. */
    public static SamplerOptions forPids(int hz, Set<Integer> pids) {
        return new SamplerOptions(hz, pids, DEFAULT_RING_BUFFER_BYTES, true);
    }
}
