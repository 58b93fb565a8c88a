package io.moonwalk.agent.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct perf_event_attr} as of PERF_ATTR_SIZE_VER7 (128 bytes, the 6.1 uapi). The kernel
 * takes the size from {@code size}, so older and newer kernels accept it. Unions are bound by their
 * first member's name; the bitfield word after {@code read_format} is {@code flags} (bits in
 * {@link perf_event_h}).
 */
public final class perf_event_attr {
    private perf_event_attr() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("size"),
            JAVA_LONG.withName("config"),
            JAVA_LONG.withName("sample_period"), // union with sample_freq
            JAVA_LONG.withName("sample_type"),
            JAVA_LONG.withName("read_format"),
            JAVA_LONG.withName("flags"), // disabled:1, inherit:1, ... freq:1 (bit 10) ...
            JAVA_INT.withName("wakeup_events"), // union with wakeup_watermark
            JAVA_INT.withName("bp_type"),
            JAVA_LONG.withName("bp_addr"), // union with config1
            JAVA_LONG.withName("bp_len"), // union with config2
            JAVA_LONG.withName("branch_sample_type"),
            JAVA_LONG.withName("sample_regs_user"),
            JAVA_INT.withName("sample_stack_user"),
            JAVA_INT.withName("clockid"),
            JAVA_LONG.withName("sample_regs_intr"),
            JAVA_INT.withName("aux_watermark"),
            JAVA_SHORT.withName("sample_max_stack"),
            JAVA_SHORT.withName("__reserved_2"),
            JAVA_INT.withName("aux_sample_size"),
            JAVA_INT.withName("__reserved_3"),
            JAVA_LONG.withName("sig_data")
    ).withName("perf_event_attr");

    public static long sizeof() {
        return LAYOUT.byteSize();
    }

    public static long offsetof(String field) {
        return LAYOUT.byteOffset(groupElement(field));
    }

    /** A zeroed struct with {@code size} already set. */
    public static MemorySegment allocate(Arena arena) {
        MemorySegment s = arena.allocate(LAYOUT);
        size(s, (int) sizeof());
        return s;
    }

    private static final long TYPE = offsetof("type");
    private static final long SIZE = offsetof("size");
    private static final long CONFIG = offsetof("config");
    private static final long SAMPLE_FREQ = offsetof("sample_period");
    private static final long FLAGS = offsetof("flags");

    public static int type(MemorySegment s) {
        return s.get(JAVA_INT, TYPE);
    }

    public static void type(MemorySegment s, int v) {
        s.set(JAVA_INT, TYPE, v);
    }

    public static int size(MemorySegment s) {
        return s.get(JAVA_INT, SIZE);
    }

    public static void size(MemorySegment s, int v) {
        s.set(JAVA_INT, SIZE, v);
    }

    public static long config(MemorySegment s) {
        return s.get(JAVA_LONG, CONFIG);
    }

    public static void config(MemorySegment s, long v) {
        s.set(JAVA_LONG, CONFIG, v);
    }

    /** The sample_period/sample_freq union read as sample_freq (meaningful with the freq flag). */
    public static long sample_freq(MemorySegment s) {
        return s.get(JAVA_LONG, SAMPLE_FREQ);
    }

    public static void sample_freq(MemorySegment s, long v) {
        s.set(JAVA_LONG, SAMPLE_FREQ, v);
    }

    public static long flags(MemorySegment s) {
        return s.get(JAVA_LONG, FLAGS);
    }

    public static void flags(MemorySegment s, long v) {
        s.set(JAVA_LONG, FLAGS, v);
    }
}
