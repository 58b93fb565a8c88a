package io.moonwalk.process.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * sys/uio.h (glibc): {@code process_vm_readv} and {@code struct iovec}, bound by hand in the
 * jextract style (jextract is not obtainable here). errno is captured per call.
 */
public final class uio_h {
    private uio_h() {}

    public static final int EPERM = 1;
    public static final int ESRCH = 3;
    public static final int EFAULT = 14;
    public static final int EINVAL = 22;
    public static final int ENOMEM = 12;
    public static final int ENOSYS = 38;

    /** {@code struct iovec { void *iov_base; size_t iov_len; }} (16 bytes on LP64). */
    public static final StructLayout IOVEC = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len")).withName("iovec");
    public static final long IOVEC_BASE = IOVEC.byteOffset(MemoryLayout.PathElement.groupElement("iov_base"));
    public static final long IOVEC_LEN = IOVEC.byteOffset(MemoryLayout.PathElement.groupElement("iov_len"));

    /** Layout of the call-state segment that receives errno; allocate it once per reader. */
    public static final StructLayout CAPTURE_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final class process_vm_readv$ {
        static final MethodHandle MH;

        static {
            Linker linker = Linker.nativeLinker();
            MemorySegment address = linker.defaultLookup().find("process_vm_readv")
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol process_vm_readv"));
            MH = linker.downcallHandle(address,
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG),
                    Linker.Option.captureCallState("errno"));
        }
    }

    /**
     * {@code ssize_t process_vm_readv(pid_t pid, const struct iovec *local_iov, unsigned long liovcnt,
     * const struct iovec *remote_iov, unsigned long riovcnt, unsigned long flags)}; on -1 the errno is in
     * {@code callState} ({@link #errno(MemorySegment)}).
     */
    public static long process_vm_readv(MemorySegment callState, int pid, MemorySegment localIov, long liovcnt,
                                        MemorySegment remoteIov, long riovcnt, long flags) {
        try {
            return (long) process_vm_readv$.MH.invokeExact(callState, pid, localIov, liovcnt, remoteIov, riovcnt,
                    flags);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("process_vm_readv downcall failed", t);
        }
    }

    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }
}
