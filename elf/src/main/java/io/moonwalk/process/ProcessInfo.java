package io.moonwalk.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Identity of a process from {@code /proc/PID}.
 *
 * @param executable  the target of {@code /proc/PID/exe}, or null when it cannot be read (kernel
 *                    threads, a main thread that already exited, no permission)
 * @param containerId 64 hex digits, or empty when the process is not in a recognised container
 */
public record ProcessInfo(int pid, String comm, String executable, String containerId) {

    /** Reads the process's info; {@link NoSuchFileException} means the process is gone. */
    public static ProcessInfo read(int pid) throws IOException {
        return read(Path.of("/proc"), pid);
    }

    /** As {@link #read(int)}, from {@code procRoot} (a core file's stand-in for /proc in a replay). */
    public static ProcessInfo read(Path procRoot, int pid) throws IOException {
        Path dir = procRoot.resolve(Integer.toString(pid));
        String comm = new String(Files.readAllBytes(dir.resolve("comm")), StandardCharsets.UTF_8);
        if (comm.endsWith("\n")) {
            comm = comm.substring(0, comm.length() - 1);
        }
        String exe;
        try {
            exe = Files.readSymbolicLink(dir.resolve("exe")).toString();
        } catch (NoSuchFileException | AccessDeniedException e) {
            exe = null;
        }
        String containerId;
        try {
            containerId = CgroupContainerId.parse(
                    new String(Files.readAllBytes(dir.resolve("cgroup")), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            containerId = "";
        }
        return new ProcessInfo(pid, comm, exe, containerId);
    }
}
