package io.moonwalk.agent.profile;

import io.moonwalk.frame.Frame;
import java.util.List;
import java.util.Map;

/**
 * An aggregated, symbolized profile of one time window.
 *
 * @param startEpochNanos wall-clock start of the window
 * @param durationNanos   length of the window
 * @param periodNanos     sampling period (1e9 / Hz) of a periodic sample type, else 0
 * @param entries         one entry per distinct (process, thread, stack, labels)
 * @param sampleType      what the entries' values measure (CPU samples unless said otherwise)
 */
public record Profile(long startEpochNanos, long durationNanos, long periodNanos, List<Entry> entries,
                      SampleType sampleType) {

    public Profile {
        java.util.Objects.requireNonNull(sampleType, "sampleType");
    }

    /** A CPU profile: entries count samples taken every {@code periodNanos}. */
    public Profile(long startEpochNanos, long durationNanos, long periodNanos, List<Entry> entries) {
        this(startEpochNanos, durationNanos, periodNanos, entries, SampleType.CPU);
    }

    /**
     * @param process    the process
     * @param threadName the thread name ({@code comm} of the sampled thread)
     * @param frames     frames root first (outermost caller first, leaf last)
     * @param labels     extra sample labels (e.g. LuaJIT VM state); may be empty
     * @param count      the value in the profile's {@link SampleType} unit: number of samples for CPU, blocked
     *                   nanoseconds for off-CPU
     */
    public record Entry(ProcessIdentity process, String threadName, List<Frame> frames,
                        Map<String, String> labels, long count) {
    }

    /** Sum of the entries' values (samples for a CPU profile). */
    public long totalSamples() {
        long n = 0;
        for (Entry e : entries) {
            n += e.count();
        }
        return n;
    }
}
