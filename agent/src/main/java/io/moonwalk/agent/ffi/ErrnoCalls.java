package io.moonwalk.agent.ffi;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import io.moonwalk.agent.ffi.libc.libc_h;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The native calls whose failure is told only through errno: libbpf's pointer-returning functions
 * (NULL + errno since libbpf 1.0), {@code syscall} and {@code close}. jextract binds functions
 * without {@code Linker.Option.captureCallState("errno")}, and errno read by a later call is not
 * reliable (the JVM may make calls of its own in between), so these handles are made here from the
 * generated bindings' own addresses and descriptors, plus the capture option. Each takes a leading
 * call-state segment ({@link #allocateCallState}) from which {@link #errno} reads the value.
 */
public final class ErrnoCalls {
    private ErrnoCalls() {
    }

    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** SYS_perf_event_open for the running architecture (jextract would fix the build machine's). */
    public static final long SYS_perf_event_open = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 298;
        case "aarch64", "arm64" -> 241;
        default -> -1; // callers report ENOSYS: no number known for this architecture
    };

    /** A call-state segment to pass as the leading argument of the calls of this class. */
    public static MemorySegment allocateCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** errno as captured by the last call that was given this call-state segment. */
    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    private static MethodHandle capturing(MemorySegment address, FunctionDescriptor desc, Linker.Option... more) {
        Linker.Option[] options = new Linker.Option[more.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(more, 0, options, 1, more.length);
        return Linker.nativeLinker().downcallHandle(address, desc, options);
    }

    // holder classes: each handle is linked on first use, as jextract's own are
    private static final class OpenMem {
        static final MethodHandle MH = capturing(libbpf_h.bpf_object__open_mem$address(),
                libbpf_h.bpf_object__open_mem$descriptor());
    }

    private static final class FindMap {
        static final MethodHandle MH = capturing(libbpf_h.bpf_object__find_map_by_name$address(),
                libbpf_h.bpf_object__find_map_by_name$descriptor());
    }

    private static final class FindProgram {
        static final MethodHandle MH = capturing(libbpf_h.bpf_object__find_program_by_name$address(),
                libbpf_h.bpf_object__find_program_by_name$descriptor());
    }

    private static final class RingBufferNew {
        static final MethodHandle MH = capturing(libbpf_h.ring_buffer__new$address(),
                libbpf_h.ring_buffer__new$descriptor());
    }

    private static final class AttachTracepoint {
        static final MethodHandle MH = capturing(libbpf_h.bpf_program__attach_tracepoint$address(),
                libbpf_h.bpf_program__attach_tracepoint$descriptor());
    }

    private static final class AttachPerfEvent {
        static final MethodHandle MH = capturing(libbpf_h.bpf_program__attach_perf_event$address(),
                libbpf_h.bpf_program__attach_perf_event$descriptor());
    }

    private static final class Syscall {
        // glibc reads every variadic argument with va_arg(long): all five are passed as long, and
        // the kernel ignores the registers a syscall does not use.
        static final MethodHandle MH = capturing(libc_h.syscall.address(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
    }

    private static final class Close {
        static final MethodHandle MH = capturing(libc_h.close$address(), libc_h.close$descriptor());
    }

    /** {@code struct bpf_object *bpf_object__open_mem(const void *, size_t, const struct bpf_object_open_opts *)} */
    public static MemorySegment bpf_object__open_mem(MemorySegment callState, MemorySegment objBuf, long size,
                                                     MemorySegment opts) {
        try {
            return (MemorySegment) OpenMem.MH.invokeExact(callState, objBuf, size, opts);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *, const char *)} */
    public static MemorySegment bpf_object__find_map_by_name(MemorySegment callState, MemorySegment obj,
                                                             MemorySegment name) {
        try {
            return (MemorySegment) FindMap.MH.invokeExact(callState, obj, name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *, const char *)} */
    public static MemorySegment bpf_object__find_program_by_name(MemorySegment callState, MemorySegment obj,
                                                                 MemorySegment name) {
        try {
            return (MemorySegment) FindProgram.MH.invokeExact(callState, obj, name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code struct ring_buffer *ring_buffer__new(int, ring_buffer_sample_fn, void *, const struct ring_buffer_opts *)} */
    public static MemorySegment ring_buffer__new(MemorySegment callState, int mapFd, MemorySegment sampleCb,
                                                 MemorySegment ctx, MemorySegment opts) {
        try {
            return (MemorySegment) RingBufferNew.MH.invokeExact(callState, mapFd, sampleCb, ctx, opts);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code struct bpf_link *bpf_program__attach_tracepoint(const struct bpf_program *, const char *, const char *)} */
    public static MemorySegment bpf_program__attach_tracepoint(MemorySegment callState, MemorySegment prog,
                                                               MemorySegment category, MemorySegment name) {
        try {
            return (MemorySegment) AttachTracepoint.MH.invokeExact(callState, prog, category, name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code struct bpf_link *bpf_program__attach_perf_event(const struct bpf_program *, int)} */
    public static MemorySegment bpf_program__attach_perf_event(MemorySegment callState, MemorySegment prog, int pfd) {
        try {
            return (MemorySegment) AttachPerfEvent.MH.invokeExact(callState, prog, pfd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code long syscall(long number, ...)} with five variadic arguments (pointers as
     * {@code segment.address()}). Returns -1 and sets errno in {@code callState} on failure.
     */
    public static long syscall(MemorySegment callState, long number, long a1, long a2, long a3, long a4, long a5) {
        try {
            return (long) Syscall.MH.invokeExact(callState, number, a1, a2, a3, a4, a5);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code int close(int fd)} */
    public static int close(MemorySegment callState, int fd) {
        try {
            return (int) Close.MH.invokeExact(callState, fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** invokeExact declares Throwable; downcalls throw only unchecked ones, rethrown as they are. */
    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }
}
