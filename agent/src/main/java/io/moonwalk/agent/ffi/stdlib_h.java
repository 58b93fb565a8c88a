package io.moonwalk.agent.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** stdlib.h (glibc): free for memory that C allocated for us. */
public final class stdlib_h {
    private stdlib_h() {}

    private static final class free$ {
        static final MethodHandle MH;

        static {
            Linker linker = Linker.nativeLinker();
            MemorySegment address = linker.defaultLookup().find("free")
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol free"));
            MH = linker.downcallHandle(address, FunctionDescriptor.ofVoid(ADDRESS));
        }
    }

    /** {@code void free(void *ptr)} */
    public static void free(MemorySegment ptr) {
        try {
            free$.MH.invokeExact(ptr);
        } catch (Throwable t) {
            throw libbpf_h.unexpected(t);
        }
    }
}
