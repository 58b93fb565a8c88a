package io.moonwalk.luajit.jit;

/**
 * One VM's JIT health at one moment: the compact record the agent exports as metrics (per process and VM).
 *
 * @param pid               the process
 * @param g                 the VM identity ({@code global_State} address)
 * @param jitOn             whether the JIT is enabled ({@code jit.on/off})
 * @param liveTraces        live traces
 * @param sideTraces        of which side traces
 * @param maxTrace          {@code maxtrace} parameter
 * @param areas             mcode areas
 * @param mcodeBytes        bytes of all mcode areas ({@code szallmcarea})
 * @param mcodeBytesInTraces bytes of machine code in live traces
 * @param maxMcodeBytes     {@code maxmcode} parameter in bytes
 * @param areaBytes         {@code sizemcode} parameter in bytes (size of each new area)
 * @param flushes           flushes detected since tracking of this VM began (at most one per read)
 * @param tracesCompiled    traces seen compiled since tracking of this VM began ({@link FlushDetector#tracesCompiled})
 * @param trackedNanos      time between the first and the latest read of the VM (the span the counters cover)
 * @param rejectedTraces    trace slots that failed validation in the last read
 */
public record JitHealth(int pid, long g, boolean jitOn, int liveTraces, int sideTraces, int maxTrace, int areas,
                        long mcodeBytes, long mcodeBytesInTraces, long maxMcodeBytes, long areaBytes, long flushes,
                        long tracesCompiled, long trackedNanos, int rejectedTraces) {

    public static JitHealth of(JitSnapshot s, long flushes, long tracesCompiled, long trackedNanos) {
        return new JitHealth(s.pid(), s.g(), s.jitOn(), s.liveTraces(), s.sideTraces(), s.param(JitParam.MAXTRACE),
                s.areas().size(), s.mcodeBytesAllocated(), s.mcodeBytesInTraces(),
                (long) s.param(JitParam.MAXMCODE) << 10, (long) s.param(JitParam.SIZEMCODE) << 10, flushes,
                tracesCompiled, trackedNanos, s.rejectedTraces());
    }

    public static JitHealth of(JitSnapshot s, FlushDetector d) {
        return of(s, d.flushes(), d.tracesCompiled(), d.trackedNanos());
    }

    /** Live traces as a fraction of {@code maxtrace} (0 when maxtrace is 0). */
    public double traceFill() {
        return maxTrace == 0 ? 0 : (double) liveTraces / maxTrace;
    }

    /** Allocated mcode as a fraction of {@code maxmcode}: at 1.0 the next area allocation flushes everything. */
    public double mcodeFill() {
        return maxMcodeBytes == 0 ? 0 : (double) mcodeBytes / maxMcodeBytes;
    }
}
