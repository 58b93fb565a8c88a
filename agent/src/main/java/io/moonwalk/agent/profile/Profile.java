package io.moonwalk.agent.profile;

import io.moonwalk.frame.Frame;
import java.util.List;
import java.util.Map;

/**
 * An aggregated, symbolized profile of one time window.
 *
 * @param startEpochNanos wall-clock start of the window
 * @param durationNanos   length of the window
 * @param periodNanos     sampling period (1e9 / Hz)
 * @param entries         one entry per distinct (process, thread, stack, labels)
 */
public record Profile(long startEpochNanos, long durationNanos, long periodNanos, List<Entry> entries) {

    /**
     * @param process    the process
     * @param threadName the thread name ({@code comm} of the sampled thread)
     * @param frames     frames root first (outermost caller first, leaf last)
     * @param labels     extra sample labels (e.g. LuaJIT VM state); may be empty
     * @param count      number of samples
     */
    public record Entry(ProcessIdentity process, String threadName, List<Frame> frames,
                        Map<String, String> labels, long count) {
    }

    public long totalSamples() {
        long n = 0;
        for (Entry e : entries) {
            n += e.count();
        }
        return n;
    }
}
