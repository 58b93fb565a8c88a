package io.moonwalk.process.ffi;

import io.moonwalk.process.ffi.libc.uio_h;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * {@code process_vm_readv} with errno captured per call. jextract binds it without
 * {@code Linker.Option.captureCallState("errno")}, and errno read by a later call is not reliable (the
 * JVM may make calls of its own in between), so the handle is linked here from the generated binding's
 * address and descriptor plus the capture option. Called for every remote read: typed invokeExact.
 */
public final class ProcessVmReadv {
    private ProcessVmReadv() {
    }

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(
            uio_h.process_vm_readv$address(), uio_h.process_vm_readv$descriptor(),
            Linker.Option.captureCallState("errno"));

    /** A call-state segment to pass as the first argument of {@link #call}; allocate one per reader. */
    public static MemorySegment allocateCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /**
     * {@code ssize_t process_vm_readv(pid_t pid, const struct iovec *local_iov, unsigned long liovcnt,
     * const struct iovec *remote_iov, unsigned long riovcnt, unsigned long flags)}; on -1 the errno is in
     * {@code callState} ({@link #errno(MemorySegment)}).
     */
    public static long call(MemorySegment callState, int pid, MemorySegment localIov, long liovcnt,
                            MemorySegment remoteIov, long riovcnt, long flags) {
        try {
            return (long) HANDLE.invokeExact(callState, pid, localIov, liovcnt, remoteIov, riovcnt, flags);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("process_vm_readv downcall failed", t);
        }
    }

    /** errno as captured by the last call given this call-state segment. */
    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }
}
