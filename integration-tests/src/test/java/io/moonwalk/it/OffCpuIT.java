package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
        Process wrk = null;
        Process rec = null;
        try (NginxServer nginx = NginxServer.start("offcpu.conf", "offcpu", Map.of())) {
            Path prefix = nginx.prefix;
            Path folded = prefix.resolve("cpu.folded");
            Path err = prefix.resolve("record.err");
            rec = Moonwalk.command(List.of("record", "--pid", Long.toString(nginx.worker), "--hz", "99", "--duration",
                    "30s", "--off-cpu", "1ms", "--output", folded.toString()))
                    .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            awaitRecording(rec, err);
            // every sleep of the run happens while the probes are attached: the load starts after and ends before
            wrk = new ProcessBuilder("wrk", "-t1", "-c4", "-d6s", "http://127.0.0.1:" + nginx.port + "/work")
                    .redirectErrorStream(true).redirectOutput(prefix.resolve("wrk.out").toFile()).start();
            assertThat(wrk.waitFor(30, TimeUnit.SECONDS)).as("wrk ends").isTrue();
            String stats = get("http://127.0.0.1:" + nginx.port + "/stats");
            rec.destroy(); // SIGTERM: record stops early and writes its outputs
            assertThat(rec.waitFor(60, TimeUnit.SECONDS)).as("record ends").isTrue();
            String summary = Files.readString(err);
            assertThat(rec.exitValue()).as(summary).isZero();

            String[] f = stats.trim().split(" ");
            long sleeps = Long.parseLong(f[3]);
            double measuredSeconds = Long.parseLong(f[5]) / 1e9;
            Folded off = Folded.read(prefix.resolve("cpu.offcpu.folded"));
            long total = off.total();
            long outsideEpoll = total - off.countMatching(l -> l.frames().contains("epoll_wait"));
            long underExecute = off.countMatching(OffCpuIT::handlerExecuteWait4);
            long anyExecute = off.countMatching(l -> l.frames().contains("os.execute"));
            System.out.printf("off-CPU of the nginx worker: %d sleeps of 20 ms ran (%.3f s nominal), the workload timed"
                            + " its os.execute calls at %.3f s; profile: %.3f s blocked in total, %.3f s outside epoll_wait,"
                            + " %.3f s under handler -> os.execute -> ... -> wait4 (%.1f%% of the time outside epoll_wait),"
                            + " %.3f s under os.execute (%.1f%% of the workload's own timing)%n%s%n%s",
                    sleeps, sleeps * 0.02, measuredSeconds, total / 1e9, outsideEpoll / 1e9, underExecute / 1e9,
                    100.0 * underExecute / Math.max(1, outsideEpoll), anyExecute / 1e9,
                    100.0 * anyExecute / 1e9 / measuredSeconds, Files.readString(prefix.resolve("wrk.out")), summary);
            off.lines().stream().sorted((a, b) -> Long.compare(b.count(), a.count())).limit(6)
                    .forEach(l -> System.out.printf("  %.3f s %s%n", l.count() / 1e9, l.joined()));
            assertThat(sleeps).as("the workload slept (wrk reached it)").isGreaterThan(50);
            assertThat(100.0 * underExecute / outsideEpoll)
                    .as("share of the off-CPU time outside epoll_wait under handler -> os.execute -> wait4").isGreaterThanOrEqualTo(90);
            assertThat(anyExecute / 1e9).as("blocked time under os.execute vs the workload's own timing of its calls")
                    .isBetween(measuredSeconds * 0.9, measuredSeconds * 1.1);
            assertThat(Folded.read(folded).total()).as("the CPU profile is still written").isPositive();
        } finally {
            for (Process p : new Process[] {wrk, rec}) {
                if (p != null && p.isAlive()) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** handler (a Lua frame) -> blocking -> os.execute -> ... -> wait4, the kernel part in do_wait. */
    private static boolean handlerExecuteWait4(Folded.Line l) {
        List<String> f = l.frames();
        int handler = indexStartingWith(f, "handler ");
        int blocking = indexStartingWith(f, "blocking ");
        int execute = f.indexOf("os.execute");
        int wait4 = f.indexOf("wait4");
        return handler >= 0 && handler < blocking && blocking < execute && execute < wait4
                && f.stream().anyMatch(s -> s.startsWith("do_wait"));
    }

    private static int indexStartingWith(List<String> frames, String prefix) {
        for (int i = 0; i < frames.size(); i++) {
            if (frames.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
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

    private static String get(String url) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(url).isEqualTo(200);
            return r.body();
        }
    }
}
