package io.moonwalk.agent.profile;

import java.util.Objects;

/**
 * What the values of a profile's entries measure. A sampled profile (CPU: one sample every period of on-CPU time)
 * counts samples; an event profile (off-CPU blocked time, calls of a traced function) sums what each event carries.
 * Every output names the type and unit it writes from here (pprof and OTLP sample types, the HTML flame graph's
 * figures), so a new kind of profile needs no change in the writers.
 *
 * @param type      the pprof / OTLP sample type ({@code samples}, {@code off_cpu})
 * @param unit      the unit of the values ({@code count}, {@code nanoseconds})
 * @param periodic  values are counts of samples taken every {@link Profile#periodNanos()} of CPU time (then the
 *                  outputs also give {@code cpu} nanoseconds = count x period, as perf and pprof do)
 */
public record SampleType(String type, String unit, boolean periodic) {
    /** CPU samples, one per period of on-CPU time. */
    public static final SampleType CPU = new SampleType("samples", "count", true);
    /** Time a thread spent off CPU (blocked), summed per stack at the moment it blocked. */
    public static final SampleType OFF_CPU = new SampleType("off_cpu", "nanoseconds", false);
    /** mmap, munmap and mprotect calls of LuaJIT processes, summed per calling stack (a rate-limited walk stands for
     * the calls since the previous one). */
    public static final SampleType MMAP = new SampleType("mmap_calls", "count", false);
    /** JIT trace aborts counted at their sites (the LuaJIT plugin's window sites): an event count, not sampled. */
    public static final SampleType TRACE_ABORTS = new SampleType("trace_aborts", "count", false);

    public SampleType {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(unit, "unit");
        if (type.isEmpty() || unit.isEmpty()) {
            throw new IllegalArgumentException("a sample type needs a type and a unit: '" + type + "', '" + unit + "'");
        }
    }
}
