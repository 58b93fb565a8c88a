package io.moonwalk.agent.record;

import io.moonwalk.agent.bpf.BpfSampler;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.session.Session;
import io.moonwalk.agent.session.SessionOptions;
import io.moonwalk.agent.session.SessionStats;
import io.moonwalk.agent.profile.SampleType;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One bounded recording: open a {@link Session}, drain it on a timer, detach, then name the frames. The sampler
 * is detached before any output is written.
 */
public final class Recording {
    /** How often the ring buffer is drained: batches, never one wake-up per sample. */
    static final Duration DRAIN_INTERVAL = Duration.ofMillis(200);

    private final SamplerOptions options;
    private final Duration duration;
    private final AtomicBoolean stop = new AtomicBoolean();
    private volatile Session session;
    private boolean targetsGone;
    private long startEpochNanos;
    private long elapsedNanos;
    private SessionStats stats = SessionStats.NONE;
    private Profile offCpu;
    private Profile mmap;
    private java.util.Map<Integer, long[]> mmapCounts = java.util.Map.of();

    public Recording(SamplerOptions options, Duration duration) {
        this.options = options;
        this.duration = duration;
    }

    /** Asks a running recording to stop early (signal handlers call this). */
    public void requestStop() {
        stop.set(true);
    }

    /** Called once the sampler is attached, e.g. to tell the user recording has begun. */
    public interface Listener {
        void attached(BpfSampler sampler);
    }

    /**
     * Samples until the duration elapsed, a stop was requested, or every target process exited; detaches, names
     * the frames and returns the profile.
     */
    public Profile run(Listener listener) throws InterruptedException {
        try (Session s = Session.open(SessionOptions.of(options))) {
            session = s;
            startEpochNanos = System.currentTimeMillis() * 1_000_000L;
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            listener.attached(s.sampler());
            while (!stop.get() && !s.targetsGone()) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                Thread.sleep(Math.max(1, Math.min(DRAIN_INTERVAL.toMillis(), (end - now) / 1_000_000)));
                s.drain();
            }
            s.drain();
            elapsedNanos = System.nanoTime() - start;
            targetsGone = s.targetsGone();
            mmapCounts = s.mmapCounts(); // the kernel's table goes with the sampler
            s.detach();
            Profile profile = s.endWindow(startEpochNanos, elapsedNanos);
            offCpu = s.lastOffCpuProfile();
            if (offCpu == null && options.offCpu()) {
                offCpu = new Profile(startEpochNanos, elapsedNanos, 0, List.of(), SampleType.OFF_CPU);
            }
            mmap = s.lastMmapProfile();
            if (mmap == null && options.mmapEvents()) {
                mmap = new Profile(startEpochNanos, elapsedNanos, 0, List.of(), SampleType.MMAP);
            }
            stats = s.stats();
            return profile;
        } finally {
            session = null;
        }
    }

    /** Closes the sampler if a recording is still attached (shutdown hook safety net). */
    public void detachNow() {
        Session s = session;
        if (s != null) {
            s.detachNow();
        }
    }

    /** The off-CPU profile of the recording (blocked nanoseconds per stack), null without {@code --off-cpu}. */
    public Profile offCpuProfile() {
        return offCpu;
    }

    /** The mmap event profile of the recording (calls per stack), null without {@code --mmap-events}. */
    public Profile mmapProfile() {
        return mmap;
    }

    /** Calls per LuaJIT process counted by the mmap probe at the end: pid -> {mmap, munmap, mprotect, not walked}. */
    public java.util.Map<Integer, long[]> mmapCounts() {
        return mmapCounts;
    }

    /** The session's figures after the frames were named. Call after {@link #run}. */
    public SessionStats stats() {
        return stats;
    }

    public boolean targetsGone() {
        return targetsGone;
    }

    public Duration elapsed() {
        return Duration.ofNanos(elapsedNanos);
    }
}
