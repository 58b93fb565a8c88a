package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.PprofReader;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code moonwalk agent} while {@code testdata/lua/flush_storm.lua} calls {@code jit.flush()} in a loop for a few
 * seconds and then runs hot, unflushed code: the per-VM flush counter on {@code /metrics} rises within 5 s of the
 * storm's start, and the windows stored after the storm hold complete stacks again (no stale mcode routes).
 */
class JitFlushStormIT {
    private static final int STORM_SECONDS = 4;
    private static final int CALM_SECONDS = 8;

    @Test
    void aFlushStormShowsInTheMetricsWithinFiveSecondsAndProfilingRecoversAfterIt() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        Path store = Moonwalk.WORK.resolve("flush-storm-store-" + ProcessHandle.current().pid());
        Files.createDirectories(store);
        try (RunningAgent agent = RunningAgent.start(Map.of(), "--exe", "luajit", "--hz", "199", "--interval", "1s",
                "--store-dir", store.toString(), "--store-max-size", "64M", "--store-max-age", "1h")) {
            Process lj = new ProcessBuilder("luajit", Moonwalk.ROOT.resolve("testdata/lua/flush_storm.lua").toString(),
                    "flush", Integer.toString(STORM_SECONDS), Integer.toString(CALM_SECONDS))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BlockingQueue<String> out = new LinkedBlockingQueue<>();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(lj.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        out.add(System.nanoTime() + " " + l);
                    }
                } catch (Exception e) {
                    // the process ended
                }
            });
            try {
                long started = waitFor(out, "STARTED", 10);
                String series = "moonwalk_luajit_flushes_total{pid=\"" + lj.pid() + "\"";
                long seen = 0;
                double flushes = 0;
                while (System.nanoTime() - started < TimeUnit.SECONDS.toNanos(STORM_SECONDS + 2)) {
                    flushes = sum(agent.get("/metrics"), series);
                    if (flushes > 0) {
                        seen = System.nanoTime();
                        break;
                    }
                    Thread.sleep(100);
                }
                assertThat(flushes).as("flush counter of pid %d during the storm", lj.pid()).isPositive();
                double delay = (seen - started) / 1e9;
                long calm = waitFor(out, "CALM", STORM_SECONDS + 10);
                double afterStorm = sum(agent.get("/metrics"), series);
                String metrics = agent.get("/metrics");
                double traces = sum(metrics, "moonwalk_luajit_traces{pid=\"" + lj.pid() + "\"");
                double areas = sum(metrics, "moonwalk_luajit_mcode_areas{pid=\"" + lj.pid() + "\"");
                waitFor(out, "END", CALM_SECONDS + 10);
                assertThat(lj.waitFor(10, TimeUnit.SECONDS)).isTrue();
                Thread.sleep(2500); // the last windows reach the store
                // windows that closed 2.5 s or more after the storm began to calm down: wholly after it
                long calmEpochMillis = System.currentTimeMillis() - (System.nanoTime() - calm) / 1_000_000;
                List<Folded.Line> lines = new ArrayList<>();
                int windows = 0;
                try (Stream<Path> files = Files.walk(store)) {
                    // pprof, not folded: other LuaJIT processes on the host are told apart by the pid
                    for (Path f : files.filter(p -> p.toString().endsWith(".pb.gz")).toList()) {
                        if (Files.getLastModifiedTime(f).toMillis() >= calmEpochMillis + 2500) {
                            windows++;
                            for (Profile.Entry e : PprofReader.read(f).entries()) {
                                if (e.process().pid() == lj.pid()) {
                                    List<String> frames = new ArrayList<>(List.of("luajit"));
                                    e.frames().forEach(x -> frames.add(x.label()));
                                    lines.add(new Folded.Line(frames, e.count()));
                                }
                            }
                        }
                    }
                }
                Folded after = new Folded(lines);
                long complete = after.countMatching(LuajitWalkIT::complete);
                long calmJit = after.countMatching(l -> l.frames().stream().anyMatch(
                        x -> x.startsWith("calm (") && x.endsWith("_[j]")));
                System.out.printf("flush storm: flush counter of the VM rose %.2f s after the storm started "
                                + "(%.0f flushes counted by the end of the storm; %.0f traces, %.0f areas after it); "
                                + "after the storm %d windows, %d samples, complete %.1f%%, in calm()'s trace %.1f%%%n",
                        delay, afterStorm, traces, areas, windows, after.total(), 100.0 * complete / after.total(),
                        100.0 * calmJit / after.total());
                assertThat(delay).as("seconds from the storm's start to a visible flush").isLessThan(5.0);
                assertThat(after.total()).as("samples after the storm").isGreaterThan(500);
                assertThat(100.0 * complete / after.total()).as("complete stacks after the storm, %%")
                        .isGreaterThanOrEqualTo(95.0);
                assertThat(100.0 * calmJit / after.total()).as("samples in calm()'s trace after the storm, %%")
                        .isGreaterThan(50.0);
            } finally {
                lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** Nanotime at which {@code word} was printed by the workload. */
    private static long waitFor(BlockingQueue<String> out, String word, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            String l = out.poll(100, TimeUnit.MILLISECONDS);
            if (l != null && l.split(" ")[1].equals(word)) {
                return Long.parseLong(l.split(" ")[0]);
            }
        }
        throw new AssertionError("the workload did not print " + word + " within " + seconds + " s");
    }

    /** The sum of every series on {@code /metrics} whose name and labels start with {@code prefix}. */
    private static double sum(String metrics, String prefix) {
        double s = 0;
        for (String line : metrics.lines().toList()) {
            if (line.startsWith(prefix)) {
                s += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return s;
    }
}
