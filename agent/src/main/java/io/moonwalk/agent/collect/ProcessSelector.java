package io.moonwalk.agent.collect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Which processes the agent keeps, by executable name, container id and cgroup path. The kernel's
 * filter only knows PIDs, so these are decided in the agent from {@code /proc/PID/exe} and
 * {@code /proc/PID/cgroup}, once per process (see {@link ProcessFilter}). A process must pass every
 * kind of criterion given; within one kind any value matches.
 *
 * @param executables    executable base names ({@code nginx}, {@code luajit}); empty = any
 * @param containerIds   container ids or id prefixes (at least 12 hex digits, as {@code docker ps}
 *                       shows them); empty = any
 * @param cgroupPrefixes cgroup v2 path prefixes ({@code /system.slice/nginx.service}); empty = any
 */
public record ProcessSelector(Set<String> executables, Set<String> containerIds, List<String> cgroupPrefixes) {
    public ProcessSelector {
        executables = Set.copyOf(executables);
        containerIds = Set.copyOf(containerIds);
        cgroupPrefixes = List.copyOf(cgroupPrefixes);
    }

    public static final ProcessSelector ALL = new ProcessSelector(Set.of(), Set.of(), List.of());

    /** True when nothing beyond the kernel PID filter has to be checked. */
    public boolean acceptsAll() {
        return executables.isEmpty() && containerIds.isEmpty() && cgroupPrefixes.isEmpty();
    }

    /** Reads what is needed about {@code pid} from {@code proc} and decides; a vanished process fails. */
    public boolean accepts(Path proc, int pid) {
        if (acceptsAll()) {
            return true;
        }
        Path dir = proc.resolve(Integer.toString(pid));
        try {
            if (!executables.isEmpty()) {
                String exe;
                try {
                    exe = Files.readSymbolicLink(dir.resolve("exe")).toString();
                } catch (IOException e) {
                    return false; // kernel threads and vanished processes have no executable
                }
                if (exe.endsWith(" (deleted)")) {
                    exe = exe.substring(0, exe.length() - " (deleted)".length());
                }
                if (!executables.contains(exe.substring(exe.lastIndexOf('/') + 1))) {
                    return false;
                }
            }
            if (!containerIds.isEmpty() || !cgroupPrefixes.isEmpty()) {
                String cgroup = new String(Files.readAllBytes(dir.resolve("cgroup")), StandardCharsets.UTF_8);
                return matchesCgroup(cgroup);
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Decides on the text of {@code /proc/PID/cgroup}. */
    boolean matchesCgroup(String cgroupFile) {
        boolean containerOk = containerIds.isEmpty();
        boolean prefixOk = cgroupPrefixes.isEmpty();
        for (String line : cgroupFile.split("\n")) {
            // hierarchy-id:controllers:path; v2 is "0::path", v1 lines are checked too for hybrid hosts
            int second = line.indexOf(':', line.indexOf(':') + 1);
            if (second < 0) {
                continue;
            }
            String path = line.substring(second + 1);
            for (String prefix : cgroupPrefixes) {
                if (path.equals(prefix) || path.startsWith(prefix.endsWith("/") ? prefix : prefix + "/")) {
                    prefixOk = true;
                }
            }
            for (String id : containerIds) {
                // ids appear as a path component or inside one (docker-<id>.scope, cri-containerd-<id>.scope)
                if (path.contains(id)) {
                    containerOk = true;
                }
            }
        }
        return containerOk && prefixOk;
    }
}
