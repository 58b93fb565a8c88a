package io.moonwalk.agent.preflight;

import io.moonwalk.agent.ffi.errno_h;
import io.moonwalk.agent.ffi.perf_event_attr;
import io.moonwalk.agent.ffi.perf_event_h;
import io.moonwalk.agent.ffi.syscall_h;
import io.moonwalk.agent.ffi.unistd_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Tries the two syscalls the profiler cannot work without, the way it will use them, and closes what they
 * return: a tiny BPF array map (bpf BPF_MAP_CREATE) and a disabled cpu-clock perf event on CPU 0 for all
 * processes. Returns errno (0 = allowed), so a refusal can be blamed on its real cause.
 */
final class SyscallProbe {
    private static final long SYS_BPF = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 321;
        case "aarch64", "arm64" -> 280;
        default -> -1;
    };
    private static final int BPF_MAP_CREATE = 0;
    private static final int BPF_MAP_TYPE_ARRAY = 2;
    /** map_type, key_size, value_size, max_entries, map_flags: the leading u32s of union bpf_attr. */
    private static final int MAP_CREATE_ATTR_BYTES = 20;

    private SyscallProbe() {
    }

    static int bpfMapCreate() {
        if (SYS_BPF < 0) {
            return 0; // unknown architecture: the loader reports it with its own message
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = errno_h.allocateCallState(arena);
            MemorySegment attr = arena.allocate(MAP_CREATE_ATTR_BYTES);
            attr.set(ValueLayout.JAVA_INT, 0, BPF_MAP_TYPE_ARRAY);
            attr.set(ValueLayout.JAVA_INT, 4, 4);
            attr.set(ValueLayout.JAVA_INT, 8, 4);
            attr.set(ValueLayout.JAVA_INT, 12, 1);
            long fd = unistd_h.syscall(state, SYS_BPF, BPF_MAP_CREATE, attr.address(), MAP_CREATE_ATTR_BYTES, 0, 0);
            if (fd < 0) {
                return errno_h.errno(state);
            }
            unistd_h.close(state, (int) fd);
            return 0;
        }
    }

    static int perfEventOpen() {
        if (syscall_h.SYS_perf_event_open < 0) {
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = errno_h.allocateCallState(arena);
            MemorySegment attr = perf_event_attr.allocate(arena);
            perf_event_attr.type(attr, perf_event_h.PERF_TYPE_SOFTWARE);
            perf_event_attr.config(attr, perf_event_h.PERF_COUNT_SW_CPU_CLOCK);
            perf_event_attr.sample_freq(attr, 1);
            perf_event_attr.flags(attr, perf_event_h.ATTR_FLAG_DISABLED | perf_event_h.ATTR_FLAG_FREQ);
            long fd = unistd_h.syscall(state, syscall_h.SYS_perf_event_open, attr.address(), -1L, 0L, -1L,
                    perf_event_h.PERF_FLAG_FD_CLOEXEC);
            if (fd < 0) {
                return errno_h.errno(state);
            }
            unistd_h.close(state, (int) fd);
            return 0;
        }
    }
}
