package io.moonwalk.agent.ffi;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** unistd.h (glibc): the raw syscall entry and close. */
public final class unistd_h {
    private unistd_h() {}

    private static MethodHandle libc(String name, FunctionDescriptor desc, Linker.Option... options) {
        Linker linker = Linker.nativeLinker();
        MemorySegment address = linker.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return linker.downcallHandle(address, desc, options);
    }

    private static final class syscall$ {
        // glibc reads every variadic argument with va_arg(long): all five are passed as long, and
        // the kernel ignores the registers a syscall does not use.
        static final MethodHandle MH = libc("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), errno_h.CAPTURE_ERRNO);
    }

    /**
     * {@code long syscall(long number, ...)} with five variadic arguments (pointers as
     * {@code segment.address()}). Returns -1 and sets errno in {@code callState} on failure.
     */
    public static long syscall(MemorySegment callState, long number, long a1, long a2, long a3, long a4, long a5) {
        try {
            return (long) syscall$.MH.invokeExact(callState, number, a1, a2, a3, a4, a5);
        } catch (Throwable t) {
            throw libbpf_h.unexpected(t);
        }
    }

    private static final class close$ {
        static final MethodHandle MH = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno_h.CAPTURE_ERRNO);
    }

    /** {@code int close(int fd)} */
    public static int close(MemorySegment callState, int fd) {
        try {
            return (int) close$.MH.invokeExact(callState, fd);
        } catch (Throwable t) {
            throw libbpf_h.unexpected(t);
        }
    }
}
