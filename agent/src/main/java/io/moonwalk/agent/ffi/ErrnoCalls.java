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

    /**
     * The handles, linked once when this class is first used. These calls happen at load, attach and
     * detach only, so they go through {@link #call} rather than one typed invokeExact wrapper each.
     */
    private static final class Handles {
        static final MethodHandle OPEN_MEM = capturing(libbpf_h.bpf_object__open_mem$address(),
                libbpf_h.bpf_object__open_mem$descriptor());
        static final MethodHandle FIND_MAP = capturing(libbpf_h.bpf_object__find_map_by_name$address(),
                libbpf_h.bpf_object__find_map_by_name$descriptor());
        static final MethodHandle FIND_PROGRAM = capturing(libbpf_h.bpf_object__find_program_by_name$address(),
                libbpf_h.bpf_object__find_program_by_name$descriptor());
        static final MethodHandle RING_BUFFER_NEW = capturing(libbpf_h.ring_buffer__new$address(),
                libbpf_h.ring_buffer__new$descriptor());
        static final MethodHandle ATTACH_TRACEPOINT = capturing(libbpf_h.bpf_program__attach_tracepoint$address(),
                libbpf_h.bpf_program__attach_tracepoint$descriptor());
        static final MethodHandle ATTACH_RAW_TRACEPOINT = capturing(
                libbpf_h.bpf_program__attach_raw_tracepoint$address(),
                libbpf_h.bpf_program__attach_raw_tracepoint$descriptor());
        static final MethodHandle ATTACH_TRACE = capturing(libbpf_h.bpf_program__attach_trace$address(),
                libbpf_h.bpf_program__attach_trace$descriptor());
        static final MethodHandle ATTACH_PERF_EVENT = capturing(libbpf_h.bpf_program__attach_perf_event$address(),
                libbpf_h.bpf_program__attach_perf_event$descriptor());
        // glibc reads every variadic argument with va_arg(long): all five are passed as long, and
        // the kernel ignores the registers a syscall does not use.
        static final MethodHandle SYSCALL = capturing(libc_h.syscall.address(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
        static final MethodHandle CLOSE = capturing(libc_h.close$address(), libc_h.close$descriptor());
    }

    /** {@code struct bpf_object *bpf_object__open_mem(const void *, size_t, const struct bpf_object_open_opts *)} */
    public static MemorySegment bpf_object__open_mem(MemorySegment callState, MemorySegment objBuf, long size,
                                                     MemorySegment opts) {
        return (MemorySegment) call(Handles.OPEN_MEM, callState, objBuf, size, opts);
    }

    /** {@code struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *, const char *)} */
    public static MemorySegment bpf_object__find_map_by_name(MemorySegment callState, MemorySegment obj,
                                                             MemorySegment name) {
        return (MemorySegment) call(Handles.FIND_MAP, callState, obj, name);
    }

    /** {@code struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *, const char *)} */
    public static MemorySegment bpf_object__find_program_by_name(MemorySegment callState, MemorySegment obj,
                                                                 MemorySegment name) {
        return (MemorySegment) call(Handles.FIND_PROGRAM, callState, obj, name);
    }

    /** {@code struct ring_buffer *ring_buffer__new(int, ring_buffer_sample_fn, void *, const struct ring_buffer_opts *)} */
    public static MemorySegment ring_buffer__new(MemorySegment callState, int mapFd, MemorySegment sampleCb,
                                                 MemorySegment ctx, MemorySegment opts) {
        return (MemorySegment) call(Handles.RING_BUFFER_NEW, callState, mapFd, sampleCb, ctx, opts);
    }

    /** {@code struct bpf_link *bpf_program__attach_tracepoint(const struct bpf_program *, const char *, const char *)} */
    public static MemorySegment bpf_program__attach_tracepoint(MemorySegment callState, MemorySegment prog,
                                                               MemorySegment category, MemorySegment name) {
        return (MemorySegment) call(Handles.ATTACH_TRACEPOINT, callState, prog, category, name);
    }

    /** {@code struct bpf_link *bpf_program__attach_raw_tracepoint(const struct bpf_program *, const char *)} */
    public static MemorySegment bpf_program__attach_raw_tracepoint(MemorySegment callState, MemorySegment prog,
                                                                   MemorySegment name) {
        return (MemorySegment) call(Handles.ATTACH_RAW_TRACEPOINT, callState, prog, name);
    }

    /** {@code struct bpf_link *bpf_program__attach_trace(const struct bpf_program *)}: a tp_btf/fentry program. */
    public static MemorySegment bpf_program__attach_trace(MemorySegment callState, MemorySegment prog) {
        return (MemorySegment) call(Handles.ATTACH_TRACE, callState, prog);
    }

    /** {@code struct bpf_link *bpf_program__attach_perf_event(const struct bpf_program *, int)} */
    public static MemorySegment bpf_program__attach_perf_event(MemorySegment callState, MemorySegment prog, int pfd) {
        return (MemorySegment) call(Handles.ATTACH_PERF_EVENT, callState, prog, pfd);
    }

    /**
     * {@code long syscall(long number, ...)} with five variadic arguments (pointers as
     * {@code segment.address()}). Returns -1 and sets errno in {@code callState} on failure.
     */
    public static long syscall(MemorySegment callState, long number, long a1, long a2, long a3, long a4, long a5) {
        return (long) call(Handles.SYSCALL, callState, number, a1, a2, a3, a4, a5);
    }

    /** {@code int close(int fd)} */
    public static int close(MemorySegment callState, int fd) {
        return (int) call(Handles.CLOSE, callState, fd);
    }

    private static Object call(MethodHandle handle, Object... args) {
        try {
            return handle.invokeWithArguments(args);
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
