package io.moonwalk.agent.ffi;

/** linux/perf_event.h: the constants moonwalk uses (the struct is {@link perf_event_attr}). */
public final class perf_event_h {
    private perf_event_h() {}

    /** enum perf_type_id */
    public static final int PERF_TYPE_SOFTWARE = 1;

    /** enum perf_sw_ids */
    public static final long PERF_COUNT_SW_CPU_CLOCK = 0;

    /** perf_event_open flags */
    public static final long PERF_FLAG_FD_CLOEXEC = 1L << 3;

    /** bits of the perf_event_attr flag word (the bitfield starting with {@code disabled}) */
    public static final long ATTR_FLAG_DISABLED = 1L;
    public static final long ATTR_FLAG_FREQ = 1L << 10;
}
