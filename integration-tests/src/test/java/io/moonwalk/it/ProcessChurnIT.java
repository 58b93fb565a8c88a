package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Process churn against the running agent: up to 1,000 short-lived processes a second for 60 s
 * (bounded), then a PID deliberately recycled (ns_last_pid) from one named program to another. After
 * the churn the unwinder's pid_maps fill returns to its baseline and the agent's RSS stays flat; no
 * stack of the new owner of the recycled PID carries the old owner's identity.
 */
class ProcessChurnIT {
    private static final int RATE = 1000;
    private static final int SECONDS = 60;

    private static Path compile(Path dir, String name, String source) throws Exception {
        Path out = dir.resolve(name);
        Process p = new ProcessBuilder("gcc", "-O2", "-o", out.toString(),
                Moonwalk.ROOT.resolve("testdata/native/" + source).toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(log).isZero();
        return out;
    }

    private static long rssKb(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new AssertionError("no VmRSS for " + pid);
    }

    /** Ids of the kernel maps named pid_maps (ours: the unwinder's per-process LPM trie). */
    private static java.util.Set<Integer> pidMapsIds() throws Exception {
        java.util.Set<Integer> ids = new java.util.TreeSet<>();
        for (String line : Moonwalk.tool("bpftool", "map", "show").lines().toList()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+): .*name pid_maps").matcher(line);
            if (m.find()) {
                ids.add(Integer.parseInt(m.group(1)));
            }
        }
        return ids;
    }

    /** Ids of the BPF maps a process holds file descriptors for (/proc/PID/fdinfo's map_id). */
    private static java.util.Set<Integer> mapIdsHeldBy(long pid) throws Exception {
        java.util.Set<Integer> ids = new java.util.TreeSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fdinfo"))) {
            for (Path fd : fds.toList()) {
                try {
                    for (String line : Files.readAllLines(fd)) {
                        if (line.startsWith("map_id:")) {
                            ids.add(Integer.parseInt(line.substring(7).trim()));
                        }
                    }
                } catch (java.io.IOException closed) {
                    // the fd was closed meanwhile
                }
            }
        }
        return ids;
    }

    /** pid_maps entries per PID (the key is {prefixlen u32, pid big-endian u32, address}). */
    private static Map<Integer, Integer> entriesByPid(int mapId) throws Exception {
        Map<Integer, Integer> out = new java.util.TreeMap<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "\"key\":\\[\"0x[0-9a-f]{2}\",\"0x[0-9a-f]{2}\",\"0x[0-9a-f]{2}\",\"0x[0-9a-f]{2}\",\"0x([0-9a-f]{2})\",\"0x([0-9a-f]{2})\",\"0x([0-9a-f]{2})\",\"0x([0-9a-f]{2})\"")
                .matcher(Moonwalk.tool("bpftool", "-j", "map", "dump", "id", Integer.toString(mapId)).replace(" ", ""));
        while (m.find()) {
            int pid = Integer.parseInt(m.group(1) + m.group(2) + m.group(3) + m.group(4), 16);
            out.merge(pid, 1, Integer::sum);
        }
        return out;
    }

    private static int deadEntries(Map<Integer, Integer> byPid) {
        int n = 0;
        for (var e : byPid.entrySet()) {
            if (!Files.exists(Path.of("/proc/" + e.getKey()))) {
                n += e.getValue();
            }
        }
        return n;
    }

    /** Starts {@code cmd} with the PID {@code wanted} (ns_last_pid), retrying while other processes take it. */
    private static Process startWithPid(long wanted, String... cmd) throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            Files.writeString(Path.of("/proc/sys/kernel/ns_last_pid"), Long.toString(wanted - 1));
            Process p = new ProcessBuilder(cmd).start();
            if (p.pid() == wanted) {
                return p;
            }
            p.destroyForcibly().waitFor();
        }
        return null;
    }

    @Test
    void churnLeavesNoTraceAndARecycledPidGetsItsOwnIdentity(@TempDir Path dir) throws Exception {
        Path churn = compile(dir, "churn", "churn.c");
        Path named = compile(dir, "named", "named.c");
        Path oldOwner = Files.copy(named, dir.resolve("mw-old-owner"), StandardCopyOption.COPY_ATTRIBUTES);
        Path newOwner = Files.copy(named, dir.resolve("mw-new-owner"), StandardCopyOption.COPY_ATTRIBUTES);
        Path store = Files.createDirectories(dir.resolve("store"));
        try (RunningAgent agent = RunningAgent.start(Map.of(), "--hz", "99", "--interval", "1s", "--store", "on",
                "--store-dir", store.toString())) {
            Thread.sleep(5000);
            java.util.Set<Integer> ours = pidMapsIds();
            ours.retainAll(mapIdsHeldBy(agent.process.pid())); // other agents may run on this host too
            assertThat(ours).as("the agent's own pid_maps").hasSize(1);
            int mapId = ours.iterator().next();
            double mapsBefore = agent.metric("moonwalk_bpf_map_entries{map=\"pid_maps\"}");
            // a short churn first, so the baseline is the agent's working size under churn (heap grown, code
            // compiled), not its start-up size: what must stay flat is the growth over the long churn
            Process warm = new ProcessBuilder(churn.toString(), Integer.toString(RATE), "15").start();
            assertThat(warm.waitFor(90, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(2000);
            long rssBefore = rssKb(agent.process.pid());

            Process c = new ProcessBuilder(churn.toString(), Integer.toString(RATE), Integer.toString(SECONDS)).start();
            assertThat(c.waitFor(SECONDS + 60, TimeUnit.SECONDS)).isTrue();
            long started;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
                started = Long.parseLong(r.readLine().trim());
            }

            // the old owner is sampled, killed, and its PID handed to the new owner at once
            Process old = new ProcessBuilder(oldOwner.toString(), "old", "3").start();
            Thread.sleep(2500);
            long pid = old.pid();
            old.destroyForcibly().waitFor();
            Process reused = startWithPid(pid, newOwner.toString(), "new", "3");
            assertThat(reused).as("pid %d could be recycled", pid).isNotNull();
            assertThat(reused.waitFor(30, TimeUnit.SECONDS)).isTrue();

            Thread.sleep(12_000); // past one reconcile sweep (5 s) and window end
            double mapsAfter = agent.metric("moonwalk_bpf_map_entries{map=\"pid_maps\"}");
            // processes of others exit at any moment: poll until no dead PID is left (bounded)
            Map<Integer, Integer> byPid = entriesByPid(mapId);
            int dead = deadEntries(byPid);
            for (int i = 0; i < 15 && dead > 0; i++) {
                Thread.sleep(1000);
                byPid = entriesByPid(mapId);
                dead = deadEntries(byPid);
            }
            long rssAfter = rssKb(agent.process.pid());
            System.out.printf("churn: %d processes started (%d/s asked for %d s); pid_maps %.0f -> %.0f entries "
                    + "(%d live processes hold them, %d entries of dead ones); RSS %d -> %d MB; processes tracked %.0f%n",
                    started, RATE, SECONDS, mapsBefore, mapsAfter, byPid.size(), dead, rssBefore >> 10, rssAfter >> 10,
                    agent.metric("moonwalk_processes_tracked"));
            assertThat(started).as("churn ran").isGreaterThan(RATE * SECONDS / 10);
            // every entry left belongs to a live process: what the churn's processes held is gone (on a quiet host
            // the fill is back at its baseline; processes started meanwhile by others legitimately add entries)
            assertThat(dead).as("pid_maps entries of processes that no longer exist").isZero();
            assertThat(rssAfter).as("RSS flat (kB)").isLessThan(rssBefore + 64 * 1024);

            List<String> lines;
            try (Stream<Path> files = Files.list(store)) {
                lines = files.filter(f -> f.toString().endsWith(".folded")).flatMap(f -> {
                    try {
                        return Files.readAllLines(f).stream();
                    } catch (Exception e) {
                        return Stream.empty();
                    }
                }).toList();
            }
            assertThat(lines).as("the new owner was sampled").anyMatch(l -> l.startsWith("mw-new-owner")
                    && l.contains("burn_as_new_owner"));
            assertThat(lines).as("no stack of the new owner under the old owner's name")
                    .noneMatch(l -> l.startsWith("mw-old-owner") && l.contains("burn_as_new_owner"));
        }
    }
}
