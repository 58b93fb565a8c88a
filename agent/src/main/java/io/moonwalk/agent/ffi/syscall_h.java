package io.moonwalk.agent.ffi;

/** sys/syscall.h: syscall numbers moonwalk calls directly (glibc has no wrapper for them). */
public final class syscall_h {
    private syscall_h() {}

    /** SYS_perf_event_open for the running architecture. */
    public static final long SYS_perf_event_open = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 298;
        case "aarch64", "arm64" -> 241;
        default -> -1; // callers report ENOSYS: no number known for this architecture
    };
}
