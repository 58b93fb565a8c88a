package io.moonwalk.agent.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** stdio.h (glibc): formatting a va_list that C hands to a Java upcall. */
public final class stdio_h {
    private stdio_h() {}

    private static final class vasprintf$ {
        static final MethodHandle MH;

        static {
            Linker linker = Linker.nativeLinker();
            MemorySegment address = linker.defaultLookup().find("vasprintf")
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol vasprintf"));
            // va_list is a pointer to the register save area on x86_64 SysV
            MH = linker.downcallHandle(address, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        }
    }

    /**
     * {@code int vasprintf(char **strp, const char *fmt, va_list ap)}: formats into a malloc'ed
     * string of exactly the needed size (release it with {@link stdlib_h#free}); -1 on failure.
     */
    public static int vasprintf(MemorySegment strp, MemorySegment fmt, MemorySegment ap) {
        try {
            return (int) vasprintf$.MH.invokeExact(strp, fmt, ap);
        } catch (Throwable t) {
            throw libbpf_h.unexpected(t);
        }
    }
}
