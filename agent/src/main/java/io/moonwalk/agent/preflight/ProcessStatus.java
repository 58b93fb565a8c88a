package io.moonwalk.agent.preflight;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lines of /proc/self/status that decide what this process may do: its effective capabilities and
 * its seccomp mode (0 none, 1 strict, 2 filter: a filter may refuse syscalls whatever the capabilities).
 */
public record ProcessStatus(long capEff, int seccompMode) {

    public static ProcessStatus ofSelf() {
        try {
            return parse(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException e) {
            throw new PermissionProblem("cannot read /proc/self/status (" + e.getMessage()
                    + "): is /proc mounted in this container?");
        }
    }

    static ProcessStatus parse(String status) {
        long caps = 0;
        int seccomp = 0;
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
            } else if (line.startsWith("Seccomp:")) {
                seccomp = Integer.parseInt(line.substring(8).trim());
            }
        }
        return new ProcessStatus(caps, seccomp);
    }

    public boolean has(Capability c) {
        return c.in(capEff);
    }

    public boolean seccompFiltered() {
        return seccompMode != 0;
    }
}
