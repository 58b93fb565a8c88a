package io.moonwalk.agent.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The pid namespace this agent runs in, as the kernel's {@code bpf_get_ns_current_pid_tgid} helper
 * names it: device and inode of {@code /proc/self/ns/pid}. Outside the initial namespace (the
 * Debian package inside a system container) the agent's {@code /proc} numbers processes
 * differently from the kernel's global pids, so the BPF programs must report the namespace's.
 */
record PidNamespace(long dev, long ino) {
    /** The initial pid namespace's inode number (PROC_PID_INIT_INO, fixed by the kernel). */
    static final long INITIAL_INO = 0xEFFFFFFCL;

    static PidNamespace ofThisProcess() {
        Path path = Path.of("/proc/self/ns/pid");
        try {
            return new PidNamespace(((Number) Files.getAttribute(path, "unix:dev")).longValue(),
                    ((Number) Files.getAttribute(path, "unix:ino")).longValue());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat " + path + " to find this agent's pid namespace", e);
        }
    }

    boolean initial() {
        return ino == INITIAL_INO;
    }
}
