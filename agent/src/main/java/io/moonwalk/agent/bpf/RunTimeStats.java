package io.moonwalk.agent.bpf;

import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import io.moonwalk.agent.ffi.libc.libc_h;

/**
 * Kernel-wide BPF run-time accounting (run_time_ns / run_cnt in bpf_prog_info). It costs a few
 * nanoseconds per program run for every BPF program on the host, so it is on only while this is
 * open.
 */
public final class RunTimeStats implements AutoCloseable {
    private final int fd;
    private boolean closed;

    private RunTimeStats(int fd) {
        this.fd = fd;
    }

    /** Turns the accounting on (BPF_ENABLE_STATS); it stays on until {@link #close()}. */
    public static RunTimeStats enable() {
        int fd = libbpf_h.bpf_enable_stats(libbpf_h.BPF_STATS_RUN_TIME());
        if (fd < 0) {
            throw BpfException.of("enabling BPF run-time statistics (bpf_enable_stats)", -fd,
                    "needs kernel 5.8+ and CAP_SYS_ADMIN");
        }
        return new RunTimeStats(fd);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            libc_h.close(fd); // nothing to do about a failed close of the stats fd
        }
    }
}
