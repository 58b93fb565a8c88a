package io.moonwalk.agent.bpf;

/**
 * Cumulative kernel run time of one BPF program, as counted while {@link RunTimeStats} is enabled.
 * Take two readings and subtract them to measure a period.
 */
public record ProgramRunTime(String program, long runTimeNanos, long runCount) {
    /** Mean nanoseconds per run over the delta from {@code earlier} to this reading; NaN if no runs. */
    public double nanosPerRunSince(ProgramRunTime earlier) {
        long runs = runCount - earlier.runCount;
        return runs == 0 ? Double.NaN : (double) (runTimeNanos - earlier.runTimeNanos) / runs;
    }
}
