package io.moonwalk.agent.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;

/**
 * {@code typedef int (*libbpf_print_fn_t)(enum libbpf_print_level level, const char *fmt, va_list ap)}.
 *
 * <p>{@code ap} is a pointer on x86_64 SysV (va_list is an array type); format it with
 * {@link stdio_h#vasprintf}. It may be consumed once only. Implementations must not throw.
 */
public final class libbpf_print_fn {
    private libbpf_print_fn() {}

    @FunctionalInterface
    public interface Function {
        int apply(int level, MemorySegment fmt, MemorySegment ap);
    }

    public static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);

    private static final MethodHandle APPLY;

    static {
        try {
            APPLY = MethodHandles.lookup().findVirtual(Function.class, "apply", DESC.toMethodType());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** An upcall stub that lives as long as {@code arena}. */
    public static MemorySegment allocate(Function fi, Arena arena) {
        return Linker.nativeLinker().upcallStub(APPLY.bindTo(fi), DESC, arena);
    }
}
