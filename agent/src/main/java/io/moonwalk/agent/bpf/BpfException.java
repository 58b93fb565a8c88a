package io.moonwalk.agent.bpf;

import io.moonwalk.bpf.maps.Errno;
import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Loading, attaching or talking to the BPF side failed; the message says what and what to do. */
public final class BpfException extends RuntimeException {
    static final String NEED_PRIVILEGES =
            "run moonwalk as root, or grant it CAP_BPF, CAP_PERFMON (and CAP_SYS_ADMIN on kernels before 5.8)";

    private final int errno;

    public BpfException(String message) {
        this(message, 0, null);
    }

    public BpfException(String message, int errno, Throwable cause) {
        super(message, cause);
        this.errno = errno;
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
