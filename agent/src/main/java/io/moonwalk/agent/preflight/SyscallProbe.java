package io.moonwalk.agent.preflight;

import io.moonwalk.agent.bpf.CpuClockEvent;
import io.moonwalk.agent.ffi.ErrnoCalls;
import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import io.moonwalk.agent.ffi.libc.libc_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Tries the two syscalls the profiler cannot work without, the way it will use them, and closes what they
 * return: a tiny BPF array map (libbpf's {@code bpf_map_create}, one bpf(BPF_MAP_CREATE) call) and a
 * disabled cpu-clock perf event on CPU 0 for all processes. Returns errno (0 = allowed), so a refusal can be
 * blamed on its real cause.
 */
final class SyscallProbe {
    private SyscallProbe() {
    }

    static int bpfMapCreate() {
        // libbpf 1.x returns -errno directly (no map name, so no feature probe of its own first)
        int fd = libbpf_h.bpf_map_create(libbpf_h.BPF_MAP_TYPE_ARRAY(), MemorySegment.NULL, 4, 4, 1,
                MemorySegment.NULL);
        if (fd < 0) {
            return -fd;
        }
        libc_h.close(fd);
        return 0;
    }

    static int perfEventOpen() {
        if (!CpuClockEvent.supported()) {
            return 0; // unknown architecture: the sampler reports it with its own message
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = ErrnoCalls.allocateCallState(arena);
            long fd = CpuClockEvent.open(state, CpuClockEvent.attr(arena, 1), 0);
            if (fd < 0) {
                return ErrnoCalls.errno(state);
            }
            libc_h.close((int) fd);
            return 0;
        }
    }
}
