package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The off-CPU profile ({@code record --off-cpu}) against a real nginx worker whose Lua handler blocks the event loop:
 * every 10th request runs {@code os.execute("sleep 0.02")} (testdata/nginx/offcpu.conf). The workload counts its
 * sleeps and times each os.execute call itself (FFI clock_gettime): that is the ground truth for the blocked time.
 * Also: without the option no scheduler program is even loaded, with it both raw tracepoints are attached.
 */
class OffCpuIT {
    @BeforeAll
    static void requireRoot() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    @Test
    void blockingHandlerIsFoundUnderOsExecuteWithItsBlockedTime() throws Exception {
        Process rec = null;
        try (NginxServer nginx = BlockingHandler.start("offcpu")) {
            Path prefix = nginx.prefix;
            Path folded = prefix.resolve("cpu.folded");
            Path err = prefix.resolve("record.err");
            rec = Moonwalk.command(List.of("record", "--pid", Long.toString(nginx.worker), "--hz", "99", "--duration",
                    "30s", "--off-cpu", "1ms", "--output", folded.toString()))
                    .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            awaitRecording(rec, err);
            // every sleep of the run happens while the probes are attached: the load starts after and ends before
            BlockingHandler.load(nginx, 6, prefix.resolve("wrk.out"));
            BlockingHandler.Stats stats = BlockingHandler.Stats.of(nginx);
            rec.destroy(); // SIGTERM: record stops early and writes its outputs
            assertThat(rec.waitFor(60, TimeUnit.SECONDS)).as("record ends").isTrue();
            String summary = Files.readString(err);
            assertThat(rec.exitValue()).as(summary).isZero();

            long sleeps = stats.sleeps();
            double measuredSeconds = stats.executeSeconds();
            Folded off = Folded.read(prefix.resolve("cpu.offcpu.folded"));
            long total = off.total();
            long outsideEpoll = total - off.countMatching(l -> l.frames().contains("epoll_wait"));
            long underWait4 = off.countMatching(l -> BlockingHandler.underWait4(l.frames()));
            long underSpawn = off.countMatching(l -> BlockingHandler.underSpawn(l.frames()));
            long underExecute = underWait4 + underSpawn;
            long anyExecute = off.countMatching(l -> l.frames().contains("os.execute"));
            System.out.printf("off-CPU of the nginx worker: %d sleeps of 20 ms ran (%.3f s nominal), the workload timed"
                            + " its os.execute calls at %.3f s; profile: %.3f s blocked in total, %.3f s outside epoll_wait,"
                            + " %.3f s under handler -> os.execute -> ... -> wait4 and %.3f s under handler -> os.execute"
                            + " -> posix_spawn -> clone3 (%.1f%% of the time outside epoll_wait),"
                            + " %.3f s under os.execute (%.1f%% of the workload's own timing)%n%s%n%s",
                    sleeps, sleeps * 0.02, measuredSeconds, total / 1e9, outsideEpoll / 1e9, underWait4 / 1e9,
                    underSpawn / 1e9, 100.0 * underExecute / Math.max(1, outsideEpoll), anyExecute / 1e9,
                    100.0 * anyExecute / 1e9 / measuredSeconds, Files.readString(prefix.resolve("wrk.out")), summary);
            off.lines().stream().sorted((a, b) -> Long.compare(b.count(), a.count())).limit(6)
                    .forEach(l -> System.out.printf("  %.3f s %s%n", l.count() / 1e9, l.joined()));
            assertThat(sleeps).as("the workload slept (wrk reached it)").isGreaterThan(50);
            // os.execute blocks twice: in clone3 until the child execs (posix_spawn, CLONE_VFORK), then in wait4 for
            // it to end. The first leg grows with the machine's load (the child waits for a CPU to exec): 5 % of the
            // blocked time on a quiet machine, 13-15 % beside a CI run
            assertThat(100.0 * underExecute / outsideEpoll).as("share of the off-CPU time outside epoll_wait under"
                    + " handler -> os.execute -> wait4 or -> posix_spawn -> clone3").isGreaterThanOrEqualTo(90);
            assertThat(100.0 * underWait4 / underExecute).as("most of it waiting for the child in wait4")
                    .isGreaterThanOrEqualTo(75);
            assertThat(anyExecute / 1e9).as("blocked time under os.execute vs the workload's own timing of its calls")
                    .isBetween(measuredSeconds * 0.9, measuredSeconds * 1.1);
            assertThat(Folded.read(folded).total()).as("the CPU profile is still written").isPositive();
        } finally {
            if (rec != null && rec.isAlive()) {
                rec.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }


    @Test
    void schedulerProbesAreInTheKernelOnlyWithTheOption() throws Exception {
        Process target = new ProcessBuilder("sleep", "60").start();
        try {
            List<String> off = probesDuringRecording(target.pid(), false);
            List<String> on = probesDuringRecording(target.pid(), true);
            System.out.printf("programs and links of record without --off-cpu: %s; with it: %s%n", off, on);
            assertThat(off).as("without --off-cpu").isEmpty();
            assertThat(on).as("with --off-cpu (the check can see them)").contains("prog mw_off_cpu_switch",
                    "prog mw_off_cpu_exit", "link mw_off_cpu_switch", "link mw_off_cpu_exit", "raw_tracepoint sys_exit");
        } finally {
            target.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /**
     * The off-CPU programs and the raw tracepoint links a running {@code record} holds: its file descriptors'
     * fdinfo (prog_id, link_type, tp_name), the programs named by bpftool.
     */
    private static List<String> probesDuringRecording(long target, boolean offCpu) throws Exception {
        Path err = Files.createTempFile(Moonwalk.WORK, "probes", ".err");
        List<String> args = new ArrayList<>(List.of("record", "--pid", Long.toString(target), "--duration", "30s",
                "--output", Files.createTempFile(Moonwalk.WORK, "probes", ".folded").toString()));
        if (offCpu) {
            args.add("--off-cpu");
        }
        Process rec = Moonwalk.command(args).redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitRecording(rec, err);
            List<String> found = new ArrayList<>();
            Set<String> progIds = new TreeSet<>();
            List<String> linkedProgIds = new ArrayList<>();
            try (Stream<Path> fds = Files.list(Path.of("/proc/" + rec.pid() + "/fdinfo"))) {
                for (Path fd : fds.toList()) {
                    Map<String, String> info = fdinfo(fd);
                    if (info.containsKey("prog_id")) {
                        progIds.add(info.get("prog_id"));
                    }
                    if (info.containsKey("link_type")) {
                        linkedProgIds.add(info.get("prog_id"));
                    }
                    if ("raw_tracepoint".equals(info.get("link_type"))) {
                        found.add("raw_tracepoint " + info.get("tp_name"));
                    }
                }
            }
            assertThat(progIds).as("record holds its BPF programs (the check can see them)").isNotEmpty();
            for (String id : progIds) {
                Matcher m = Pattern.compile("name (\\S+)").matcher(Moonwalk.tool("bpftool", "prog", "show", "id", id));
                if (m.find() && m.group(1).startsWith("mw_off_cpu")) {
                    found.add("prog " + m.group(1));
                    if (linkedProgIds.contains(id)) {
                        found.add("link " + m.group(1));
                    }
                }
            }
            return found;
        } finally {
            rec.destroy();
            assertThat(rec.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    private static Map<String, String> fdinfo(Path fd) {
        Map<String, String> info = new HashMap<>();
        try {
            for (String line : Files.readAllLines(fd)) {
                int tab = line.indexOf(':');
                if (tab > 0) {
                    info.put(line.substring(0, tab), line.substring(tab + 1).trim());
                }
            }
        } catch (IOException closedMeanwhile) {
            // an fd closed between listing and reading
        }
        return info;
    }

    private static void awaitRecording(Process rec, Path err) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(err).contains("recording") && rec.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Files.readString(err)).as("record announces it is recording").contains("recording");
    }
}
