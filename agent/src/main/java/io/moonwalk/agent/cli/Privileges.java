package io.moonwalk.agent.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks up front that this process may load BPF programs and open perf events. */
final class Privileges {
    private static final int CAP_SYS_ADMIN = 21;
    private static final int CAP_PERFMON = 38;
    private static final int CAP_BPF = 39;

    private Privileges() {
    }

    static void requireProfilingCapabilities() {
        long caps;
        try {
            caps = Files.readString(Path.of("/proc/self/status")).lines()
                    .filter(l -> l.startsWith("CapEff:"))
                    .map(l -> Long.parseUnsignedLong(l.substring(7).trim(), 16))
                    .findFirst().orElse(0L);
        } catch (IOException | NumberFormatException e) {
            caps = 0;
        }
        boolean admin = has(caps, CAP_SYS_ADMIN);
        if (!(admin || (has(caps, CAP_BPF) && has(caps, CAP_PERFMON)))) {
            throw new UsageProblem("moonwalk needs root (or the capabilities CAP_BPF and CAP_PERFMON) to load "
                    + "its eBPF programs and open perf events: run it with sudo");
        }
    }

    private static boolean has(long caps, int cap) {
        return (caps & (1L << cap)) != 0;
    }
}
