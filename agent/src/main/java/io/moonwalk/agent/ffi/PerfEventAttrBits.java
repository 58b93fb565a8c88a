package io.moonwalk.agent.ffi;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.moonwalk.agent.ffi.libbpf.perf_event_attr;
import java.lang.foreign.MemorySegment;

/**
 * The bit fields of {@code struct perf_event_attr} ({@code disabled:1, inherit:1, ...}), which
 * jextract skips ("bitfields are not supported") and leaves as 8 bytes of padding after
 * {@code read_format}. The word's offset comes from the generated layout; the bit positions are
 * checked against the C compiler by StructLayoutTest.
 */
public final class PerfEventAttrBits {
    private PerfEventAttrBits() {
    }

    /** Offset of the 64-bit word holding the bit fields: right after {@code read_format}. */
    public static final long OFFSET = perf_event_attr.read_format$offset() + perf_event_attr.read_format$layout().byteSize();

    public static final long DISABLED = 1L;
    public static final long FREQ = 1L << 10;

    public static long get(MemorySegment attr) {
        return attr.get(JAVA_LONG, OFFSET);
    }

    public static void set(MemorySegment attr, long bits) {
        attr.set(JAVA_LONG, OFFSET, bits);
    }
}
