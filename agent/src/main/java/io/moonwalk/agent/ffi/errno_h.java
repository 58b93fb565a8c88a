package io.moonwalk.agent.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * errno.h: the errno values the loader reacts to, and the call-state segment through which
 * downcalls bound with {@code Linker.Option.captureCallState("errno")} report errno.
 */
public final class errno_h {
    private errno_h() {}

    public static final int EPERM = io.moonwalk.bpf.maps.Errno.EPERM;
    public static final int ENOENT = io.moonwalk.bpf.maps.Errno.ENOENT;
    public static final int ENXIO = io.moonwalk.bpf.maps.Errno.ENXIO;
    public static final int E2BIG = io.moonwalk.bpf.maps.Errno.E2BIG;
    public static final int EACCES = io.moonwalk.bpf.maps.Errno.EACCES;
    public static final int ENODEV = io.moonwalk.bpf.maps.Errno.ENODEV;
    public static final int EINVAL = io.moonwalk.bpf.maps.Errno.EINVAL;
    public static final int ENOSPC = io.moonwalk.bpf.maps.Errno.ENOSPC;

    /** Linker option shared by every errno-reporting binding. */
    static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** A call-state segment to pass as the leading argument of errno-capturing functions. */
    public static MemorySegment allocateCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** errno as captured by the last call that was given this call-state segment. */
    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }
}
