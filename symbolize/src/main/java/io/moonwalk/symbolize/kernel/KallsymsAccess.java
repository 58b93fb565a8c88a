package io.moonwalk.symbolize.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What decides whether {@code /proc/kallsyms} shows this process real addresses, and the
 * explanation when it does not. The kernel shows them when {@code kernel.kptr_restrict} is 0 and
 * {@code kernel.perf_event_paranoid} is at most 1, or when {@code kptr_restrict} is at most 1 and
 * the reader holds CAP_SYSLOG in the initial user namespace; {@code kptr_restrict=2} hides them
 * from everyone. A sandbox can also hide the whole file (systemd's {@code ProtectKernelTunables=yes}).
 *
 * @param kptrRestrict      {@code kernel.kptr_restrict}, or -1 when unreadable
 * @param perfEventParanoid {@code kernel.perf_event_paranoid}, or {@link Integer#MIN_VALUE} when unreadable
 * @param capSyslog         CAP_SYSLOG is in this process's effective set
 */
public record KallsymsAccess(int kptrRestrict, int perfEventParanoid, boolean capSyslog) {
    private static final int CAP_SYSLOG = 34;

    /** The facts for this process, read from /proc. */
    public static KallsymsAccess ofThisProcess() {
        return new KallsymsAccess(readInt("/proc/sys/kernel/kptr_restrict", -1),
                readInt("/proc/sys/kernel/perf_event_paranoid", Integer.MIN_VALUE), hasCapSyslog());
    }

    /** Why every address read as 0, and what to do about it. */
    String explainZeroAddresses(Path source) {
        String prefix = source + ": every address reads as 0 — ";
        if (kptrRestrict >= 2) {
            return prefix + "kernel.kptr_restrict=" + kptrRestrict + " hides kernel addresses from everyone;"
                    + " set it to 1 (sysctl kernel.kptr_restrict=1) so that CAP_SYSLOG may read them.";
        }
        if (!capSyslog) {
            return prefix + "this process lacks CAP_SYSLOG (kernel.kptr_restrict="
                    + (kptrRestrict < 0 ? "?" : kptrRestrict) + ", perf_event_paranoid="
                    + (perfEventParanoid == Integer.MIN_VALUE ? "?" : perfEventParanoid)
                    + "). Grant it: CAP_SYSLOG in the systemd unit's AmbientCapabilities= and"
                    + " CapabilityBoundingSet=, SYSLOG in a container's added capabilities.";
        }
        return prefix + "CAP_SYSLOG is held, but not in the initial user namespace (a user-namespaced"
                + " container or systemd PrivateUsers=): the kernel only honours it there.";
    }

    /** Why the file read as empty: something mounted over it. */
    static String explainEmpty(Path source) {
        return source + " is empty: a sandbox hides it (systemd's ProtectKernelTunables=yes makes it"
                + " inaccessible; moonwalk.service keeps it off for this reason). Kernel frames stay unnamed.";
    }

    private static int readInt(String path, int fallback) {
        try {
            return Integer.parseInt(Files.readString(Path.of(path)).trim());
        } catch (IOException | NumberFormatException | SecurityException e) {
            return fallback;
        }
    }

    private static boolean hasCapSyslog() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (caps & (1L << CAP_SYSLOG)) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }
}
