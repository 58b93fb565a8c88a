package io.moonwalk.agent.bpf;

import io.moonwalk.bpf.maps.Errno;
import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Loading, attaching or talking to the BPF side failed; the message says what and what to do. A refusal by
 * the kernel itself (its verifier rejected a program, or it lacks a feature the programs need) is marked
 * {@link #kernelRefused()}: retrying on the same kernel cannot help, so the CLI exits with its own code.
 */
public final class BpfException extends RuntimeException {
    static final String NEED_PRIVILEGES =
            "run moonwalk as root, or grant it CAP_BPF, CAP_PERFMON (and CAP_SYS_ADMIN on kernels before 5.8)";

    private final int errno;
    private final boolean kernelRefused;

    public BpfException(String message) {
        this(message, 0, null);
    }

    public BpfException(String message, int errno, Throwable cause) {
        this(message, errno, cause, false);
    }

    private BpfException(String message, int errno, Throwable cause, boolean kernelRefused) {
        super(message, cause);
        this.errno = errno;
        this.kernelRefused = kernelRefused;
    }

    /** The running kernel cannot run these programs (verifier refusal, missing helper, map type or BTF). */
    static BpfException kernelRefused(String message, int errno) {
        return new BpfException(message, errno, null, true);
    }

    /** The same failure with more text after the message (e.g. the verifier log). */
    BpfException withDetail(String detail) {
        return new BpfException(getMessage() + detail, errno, getCause(), kernelRefused);
    }

    /** True if the kernel refused the programs: the same build will fail the same way on this kernel. */
    public boolean kernelRefused() {
        return kernelRefused;
    }

    /** The errno behind the failure, 0 if none. */
    public int errno() {
        return errno;
    }

    /**
     * "{what} failed: {strerror} ({advice})"; permission errors get the privilege advice whatever
     * {@code advice} says.
     */
    static BpfException of(String what, int errno, String advice) {
        int e = Math.abs(errno);
        String hint = (e == Errno.EPERM || e == Errno.EACCES) ? NEED_PRIVILEGES : advice;
        String msg = what + " failed: " + strerror(e) + " (errno " + e + ")" + (hint == null ? "" : "; " + hint);
        return new BpfException(msg, e, null);
    }

    /** libbpf_strerror knows libbpf's own error codes (4000+) as well as errno values. */
    static String strerror(int errno) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            if (libbpf_h.libbpf_strerror(errno, buf, buf.byteSize()) == 0) {
                return buf.getString(0);
            }
        } catch (RuntimeException | LinkageError e) {
            // fall through: the number is still in the message
        }
        return "error " + errno;
    }
}
