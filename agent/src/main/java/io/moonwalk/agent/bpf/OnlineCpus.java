package io.moonwalk.agent.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;

/** The kernel's CPU list format ({@code 0-3,5,7-8}) as in /sys/devices/system/cpu/online. */
final class OnlineCpus {
    static final Path ONLINE = Path.of("/sys/devices/system/cpu/online");
    private static final int MAX_CPU = 1 << 16;

    private OnlineCpus() {}

    static int[] read() {
        try {
            return parse(Files.readString(ONLINE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + ONLINE + " (is /sys mounted?)", e);
        }
    }

    static int[] parse(String list) {
        BitSet cpus = new BitSet();
        String trimmed = list.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty CPU list");
        }
        for (String part : trimmed.split(",")) {
            int dash = part.indexOf('-');
            int from;
            int to;
            try {
                from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
                to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad CPU list entry '" + part + "' in '" + trimmed + "'", e);
            }
            if (from < 0 || to < from || to >= MAX_CPU) {
                throw new IllegalArgumentException("bad CPU range '" + part + "' in '" + trimmed + "'");
            }
            cpus.set(from, to + 1);
        }
        return cpus.stream().toArray();
    }
}
