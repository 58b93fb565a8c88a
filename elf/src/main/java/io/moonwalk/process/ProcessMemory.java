package io.moonwalk.process;

import io.moonwalk.process.ffi.uio_h;
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

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(MAX_READ, 16);
    private final MemorySegment localIov = arena.allocate(uio_h.IOVEC);
    private final MemorySegment remoteIov = arena.allocate(uio_h.IOVEC);
    private final MemorySegment callState = arena.allocate(uio_h.CAPTURE_STATE);
    private int lastCount;
    private int lastErrno;
    private long reads;
    private long failedReads;
    private long bytesRead;

    public ProcessMemory() {
        localIov.set(ValueLayout.ADDRESS, uio_h.IOVEC_BASE, buffer);
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
        localIov.set(ValueLayout.JAVA_LONG, uio_h.IOVEC_LEN, length);
        remoteIov.set(ValueLayout.JAVA_LONG, uio_h.IOVEC_BASE, address);
        remoteIov.set(ValueLayout.JAVA_LONG, uio_h.IOVEC_LEN, length);
        long n = uio_h.process_vm_readv(callState, pid, localIov, 1, remoteIov, 1, 0);
        if (n < 0) {
            failedReads++;
            lastErrno = uio_h.errno(callState);
            return switch (lastErrno) {
                case uio_h.EFAULT -> ReadStatus.UNMAPPED;
                case uio_h.ESRCH -> ReadStatus.NO_PROCESS;
                case uio_h.EPERM -> ReadStatus.DENIED;
                default -> ReadStatus.FAILED;
            };
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
