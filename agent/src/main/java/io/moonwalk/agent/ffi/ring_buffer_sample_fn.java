package io.moonwalk.agent.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;

/**
 * {@code typedef int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size)}.
 *
 * <p>{@code data} arrives as a zero-length segment: reinterpret it to {@code size}. An exception
 * that leaves the upcall terminates the JVM, so implementations must catch everything and return
 * a negative value to stop consumption.
 */
public final class ring_buffer_sample_fn {
    private ring_buffer_sample_fn() {}

    @FunctionalInterface
    public interface Function {
        int apply(MemorySegment ctx, MemorySegment data, long size);
    }

    public static final FunctionDescriptor DESC = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);

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
