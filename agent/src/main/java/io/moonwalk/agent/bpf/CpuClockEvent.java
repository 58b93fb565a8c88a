package io.moonwalk.agent.bpf;

import io.moonwalk.agent.ffi.ErrnoCalls;
import io.moonwalk.agent.ffi.PerfEventAttrBits;
import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import io.moonwalk.agent.ffi.libbpf.perf_event_attr;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The perf event the sampler hangs on: a cpu-clock software event per CPU, for all processes, created
 * disabled (libbpf enables it after attaching the program). One definition for the sampler and the
 * start-up permission probe, so the probe asks the kernel exactly what the sampler will.
 */
public final class CpuClockEvent {
    private CpuClockEvent() {
    }

    /** False on an architecture whose perf_event_open syscall number is unknown. */
    public static boolean supported() {
        return ErrnoCalls.SYS_perf_event_open >= 0;
    }

    /** A {@code perf_event_attr} for {@code hz} samples per second, allocated in {@code arena}. */
    public static MemorySegment attr(Arena arena, long hz) {
        MemorySegment attr = perf_event_attr.allocate(arena);
        perf_event_attr.size(attr, (int) perf_event_attr.sizeof());
        perf_event_attr.type(attr, libbpf_h.PERF_TYPE_SOFTWARE());
        perf_event_attr.config(attr, libbpf_h.PERF_COUNT_SW_CPU_CLOCK());
        perf_event_attr.sample_freq(attr, hz);
        PerfEventAttrBits.set(attr, PerfEventAttrBits.DISABLED | PerfEventAttrBits.FREQ);
        return attr;
    }

    /**
     * {@code perf_event_open(attr, -1 (all processes), cpu, -1, PERF_FLAG_FD_CLOEXEC)}: the fd, or -1 with
     * errno in {@code callState} ({@link ErrnoCalls#errno}). Only when {@link #supported()}.
     */
    public static long open(MemorySegment callState, MemorySegment attr, int cpu) {
        return ErrnoCalls.syscall(callState, ErrnoCalls.SYS_perf_event_open, attr.address(), -1L, cpu, -1L,
                libbpf_h.PERF_FLAG_FD_CLOEXEC());
    }
}
