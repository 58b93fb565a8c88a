package io.moonwalk.agent.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct bpf_object_open_opts} (libbpf 1.1: 80 bytes). libbpf reads only the first
 * {@code sz} bytes, so this layout stays valid with newer libbpf versions.
 */
public final class bpf_object_open_opts {
    private bpf_object_open_opts() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("sz"),
            ADDRESS.withName("object_name"),
            JAVA_BOOLEAN.withName("relaxed_maps"),
            MemoryLayout.paddingLayout(7),
            ADDRESS.withName("pin_root_path"),
            MemoryLayout.paddingLayout(8), // __u32 :32 (removed attach_prog_fd) + alignment
            ADDRESS.withName("kconfig"),
            ADDRESS.withName("btf_custom_path"),
            ADDRESS.withName("kernel_log_buf"),
            JAVA_LONG.withName("kernel_log_size"),
            JAVA_INT.withName("kernel_log_level"),
            MemoryLayout.paddingLayout(4) // size_t :0
    ).withName("bpf_object_open_opts");

    public static long sizeof() {
        return LAYOUT.byteSize();
    }

    public static long offsetof(String field) {
        return LAYOUT.byteOffset(groupElement(field));
    }

    /** A zeroed struct with {@code sz} already set. */
    public static MemorySegment allocate(Arena arena) {
        MemorySegment s = arena.allocate(LAYOUT);
        sz(s, sizeof());
        return s;
    }

    private static final long SZ = offsetof("sz");
    private static final long OBJECT_NAME = offsetof("object_name");

    public static long sz(MemorySegment s) {
        return s.get(JAVA_LONG, SZ);
    }

    public static void sz(MemorySegment s, long v) {
        s.set(JAVA_LONG, SZ, v);
    }

    public static MemorySegment object_name(MemorySegment s) {
        return s.get(ADDRESS, OBJECT_NAME);
    }

    public static void object_name(MemorySegment s, MemorySegment v) {
        s.set(ADDRESS, OBJECT_NAME, v);
    }
}
