package io.moonwalk.agent.preflight;

import io.moonwalk.bpf.maps.Errno;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks at start, before anything is loaded, that this process may do everything profiling needs, and
 * names the real cause when it may not: a missing capability, a seccomp filter refusing a syscall, tracefs
 * or kernel BTF missing. Without this, a container lacking e.g. CAP_SYS_PTRACE would run "successfully"
 * and produce no complete stack.
 */
public final class Preflight {
    static final Path BTF = Path.of("/sys/kernel/btf/vmlinux");
    static final List<Path> TRACEFS = List.of(Path.of("/sys/kernel/tracing"), Path.of("/sys/kernel/debug/tracing"));
    static final String EXIT_TRACEPOINT_ID = "events/sched/sched_process_exit/id";
    static final Path KALLSYMS = Path.of("/proc/kallsyms");

    private Preflight() {
    }

    /** Throws {@link PermissionProblem} with one line naming what is missing and what to do. */
    public static void requireProfiling() {
        ProcessStatus status = ProcessStatus.ofSelf();
        List<Capability> missing = missingCapabilities(status, kernelSymbolsHidden(KALLSYMS));
        if (!missing.isEmpty()) {
            throw new PermissionProblem(describeMissing(missing));
        }
        requireReadable(BTF, "no kernel BTF at " + BTF + " (the BPF programs are relocated against it): the kernel "
                + "needs CONFIG_DEBUG_INFO_BTF=y; in a container, do not hide /sys/kernel/btf (mount the host's "
                + "/sys/kernel/btf read-only if the runtime masks it)");
        requireTracefs();
        requireSyscall("bpf()", SyscallProbe.bpfMapCreate(), status, Capability.BPF);
        requireSyscall("perf_event_open()", SyscallProbe.perfEventOpen(), status, Capability.PERFMON);
    }

    /**
     * What is missing from {@code status}: BPF and PERFMON (or SYS_ADMIN, which implies both), SYS_PTRACE,
     * DAC_READ_SEARCH (or DAC_OVERRIDE), CHECKPOINT_RESTORE (or SYS_ADMIN, before kernel 5.9 the only way to
     * open /proc/PID/map_files entries), and SYSLOG only when the kernel hides /proc/kallsyms addresses from
     * this process (with kernel.kptr_restrict=0 and perf_event_paranoid <= 1 it does not).
     */
    static List<Capability> missingCapabilities(ProcessStatus s, boolean kallsymsHidden) {
        List<Capability> missing = new ArrayList<>();
        boolean admin = s.has(Capability.SYS_ADMIN);
        if (!admin && !s.has(Capability.BPF)) {
            missing.add(Capability.BPF);
        }
        if (!admin && !s.has(Capability.PERFMON)) {
            missing.add(Capability.PERFMON);
        }
        if (!s.has(Capability.SYS_PTRACE)) {
            missing.add(Capability.SYS_PTRACE);
        }
        if (!s.has(Capability.DAC_READ_SEARCH) && !s.has(Capability.DAC_OVERRIDE)) {
            missing.add(Capability.DAC_READ_SEARCH);
        }
        if (!admin && !s.has(Capability.CHECKPOINT_RESTORE)) {
            missing.add(Capability.CHECKPOINT_RESTORE);
        }
        if (kallsymsHidden && !s.has(Capability.SYSLOG)) {
            missing.add(Capability.SYSLOG);
        }
        return missing;
    }

    static String describeMissing(List<Capability> missing) {
        StringBuilder sb = new StringBuilder(missing.size() == 1 ? "missing capability " : "missing capabilities ");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < missing.size(); i++) {
            Capability c = missing.get(i);
            sb.append(i == 0 ? "" : ", ").append(c.capName()).append(" (").append(c.purpose()).append(')');
            names.add(c.name());
        }
        return sb.append(": run moonwalk as root, or add ").append(String.join(", ", names))
                .append(" to the container's capabilities (Kubernetes: securityContext.capabilities.add)")
                .toString();
    }

    /** Whether /proc/kallsyms shows only zero addresses to this process (no non-zero one in its first lines). */
    static boolean kernelSymbolsHidden(Path kallsyms) {
        try (BufferedReader r = Files.newBufferedReader(kallsyms)) {
            String line;
            for (int i = 0; i < 64 && (line = r.readLine()) != null; i++) {
                int space = line.indexOf(' ');
                if (space > 0 && !line.substring(0, space).chars().allMatch(ch -> ch == '0')) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return true;
        }
    }

    private static void requireReadable(Path path, String problem) {
        if (!opens(path)) {
            throw new PermissionProblem(problem);
        }
    }

    /**
     * Opens the file rather than asking access(2) ({@code Files.isReadable}): access() checks the real
     * uid without capabilities, so a non-root service holding CAP_DAC_READ_SEARCH (moonwalk.service)
     * would be told tracefs (mode 0700) is unreadable although it reads it fine.
     */
    private static boolean opens(Path path) {
        try (var in = Files.newInputStream(path)) {
            return true;
        } catch (java.io.IOException | SecurityException e) {
            return false;
        }
    }

    private static void requireTracefs() {
        for (Path root : TRACEFS) {
            if (opens(root.resolve(EXIT_TRACEPOINT_ID))) {
                return;
            }
        }
        throw new PermissionProblem("tracefs is not mounted at /sys/kernel/tracing (the process-exit tracepoint needs "
                + "it): mount it (mount -t tracefs nodev /sys/kernel/tracing); in a container, mount the host's "
                + "/sys/kernel/tracing (read-only is enough)");
    }

    private static void requireSyscall(String call, int errno, ProcessStatus s, Capability cap) {
        if (errno != Errno.EPERM && errno != Errno.EACCES) {
            return; // allowed, or failing for a reason the loader reports with its own message
        }
        String error = errno == Errno.EPERM ? "EPERM" : "EACCES";
        if (s.seccompFiltered()) {
            throw new PermissionProblem("the seccomp filter of this process refuses " + call + " (" + error
                    + ") although " + cap.capName() + " is granted: run the container with seccomp unconfined "
                    + "(Kubernetes: securityContext.seccompProfile.type: Unconfined), or add CAP_SYS_ADMIN, which "
                    + "container runtimes' default seccomp profiles require for " + call);
        }
        throw new PermissionProblem(call + " is refused (" + error + ") although " + cap.capName()
                + " is granted and no seccomp filter is set: a Linux security module (SELinux, AppArmor, lockdown) "
                + "or kernel.perf_event_paranoid/unprivileged_bpf_disabled policy refuses it");
    }
}
