package io.moonwalk.process;

import io.moonwalk.process.ffi.ProcessVmReadv;
import io.moonwalk.process.ffi.libc.iovec;
import io.moonwalk.process.ffi.libc.uio_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reads other processes' memory with {@code process_vm_readv}: no ptrace attach, the target is never
 * stopped (docs/architecture.md, non-negotiable 2). The kernel still applies the ptrace access check, so reading
 * needs CAP_SYS_PTRACE or the same user (and Yama permitting); a refusal comes back as
 * {@link ReadStatus#DENIED}.
 *
 * <p>One instance owns a native buffer of {@link #MAX_READ} bytes and its iovecs, reused by every read so
 * a read allocates nothing. Not thread-safe: give each reading thread its own instance. Failures are
 * results, not exceptions, because garbage addresses are the normal input of a profiler.
 */
public final class ProcessMemory implements MemoryReader, AutoCloseable {
    /** Largest single read: bounds what one hostile length field can make us copy. */
    public static final int MAX_READ = 1 << 16;

    private static final int EFAULT = uio_h.EFAULT();
    private static final int ESRCH = uio_h.ESRCH();
    private static final int EPERM = uio_h.EPERM();

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(MAX_READ, 16);
    private final MemorySegment localIov = iovec.allocate(arena);
    private final MemorySegment remoteIov = iovec.allocate(arena);
    private final MemorySegment callState = ProcessVmReadv.allocateCallState(arena);
    private int lastCount;
    private int lastErrno;
    private long reads;
    private long failedReads;
    private long bytesRead;

    public ProcessMemory() {
        iovec.iov_base(localIov, buffer);
    }

    @Override
    public ReadStatus read(int pid, long address, byte[] dst, int offset, int length) {
        if (offset < 0 || length < 0 || length > dst.length - offset) {
            lastCount = 0;
            lastErrno = 0;
            failedReads++;
            return ReadStatus.TOO_LARGE;
        }
        ReadStatus s = readToBuffer(pid, address, length);
        if (lastCount > 0) {
            MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, 0, dst, offset, lastCount);
        }
        return s;
    }

    /**
     * Reads into the internal buffer ({@link #buffer()}), valid until the next read. Useful for callers that
     * decode fields in place with {@code MemorySegment} accessors.
     */
    public ReadStatus readToBuffer(int pid, long address, int length) {
        reads++;
        lastCount = 0;
        lastErrno = 0;
        if (length < 0 || length > MAX_READ) {
            failedReads++;
            return ReadStatus.TOO_LARGE;
        }
        if (length == 0) {
            return ReadStatus.OK;
        }
        iovec.iov_len(localIov, length);
        // the remote base is an address in another process: written as a number, never dereferenced here
        remoteIov.set(ValueLayout.JAVA_LONG, iovec.iov_base$offset(), address);
        iovec.iov_len(remoteIov, length);
        long n = ProcessVmReadv.call(callState, pid, localIov, 1, remoteIov, 1, 0);
        if (n < 0) {
            failedReads++;
            lastErrno = ProcessVmReadv.errno(callState);
            return lastErrno == EFAULT ? ReadStatus.UNMAPPED
                    : lastErrno == ESRCH ? ReadStatus.NO_PROCESS
                    : lastErrno == EPERM ? ReadStatus.DENIED
                    : ReadStatus.FAILED;
        }
        lastCount = (int) n;
        bytesRead += n;
        if (n < length) {
            failedReads++;
            return ReadStatus.PARTIAL;
        }
        return ReadStatus.OK;
    }

    /** The reusable read buffer ({@link #MAX_READ} bytes); the last read's bytes start at 0. */
    public MemorySegment buffer() {
        return buffer;
    }

    @Override
    public int lastCount() {
        return lastCount;
    }

    /** errno of the last failed read, 0 after a successful or partial one. */
    public int lastErrno() {
        return lastErrno;
    }

    public long reads() {
        return reads;
    }

    /** Reads that were not {@link ReadStatus#OK}, partial ones included. */
    public long failedReads() {
        return failedReads;
    }

    public long bytesRead() {
        return bytesRead;
    }

    @Override
    public void close() {
        arena.close();
    }
}
