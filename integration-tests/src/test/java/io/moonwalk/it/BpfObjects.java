package io.moonwalk.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * BPF programs and maps as bpftool lists them. Other tests and helpers load programs concurrently, so checks
 * look only at the ids held by one process.
 */
final class BpfObjects {
    private static final Pattern ENTRY = Pattern.compile("\\{\"id\":(\\d+),.*?(?=\\{\"id\":|$)", Pattern.DOTALL);

    private BpfObjects() {
    }

    /**
     * Ids of the programs ({@code kind} "prog") or maps ("map") that process {@code pid} holds an fd of, from
     * /proc/PID/fdinfo (Debian's bpftool lists no owner pids). libbpf keeps an fd of every program and map it
     * loaded, tail-call targets included, until the object is closed.
     */
    static Set<Long> idsHeldBy(String kind, long pid) throws IOException {
        Set<Long> out = new HashSet<>();
        String key = kind + "_id:";
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/" + pid + "/fdinfo"))) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) fds::iterator) {
                String info;
                try {
                    info = java.nio.file.Files.readString(f);
                } catch (IOException e) {
                    continue; // closed meanwhile
                }
                for (String line : info.split("\n")) {
                    if (line.startsWith(key)) {
                        out.add(Long.parseLong(line.substring(key.length()).trim()));
                    }
                }
            }
        }
        return out;
    }

    /** Which of {@code ids} still exist. */
    static Set<Long> existing(String kind, Set<Long> ids) throws IOException, InterruptedException {
        Set<Long> out = new HashSet<>();
        Matcher m = ENTRY.matcher(list(kind));
        while (m.find()) {
            long id = Long.parseLong(m.group(1));
            if (ids.contains(id)) {
                out.add(id);
            }
        }
        return out;
    }

    private static String list(String kind) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bpftool", "-j", kind, "show").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("bpftool " + kind + " show failed: " + out);
        }
        return out;
    }
}
