package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A LuaJIT process that exits before {@code record} names its frames keeps its names: the agent reads each
 * Lua frame's proto on a background thread as soon as the stack is first seen, while the process is alive.
 * Without that, the window-end naming finds the process gone and every frame is {@code [invalid lua frame]}.
 */
class LuaPrefetchIT {
    /** CPU-bound for about 2 s, then exits; {@code burn} is a local function called from the main chunk. */
    private static final String SCRIPT = """
            if arg and arg[1] == "wait" then io.read("*l") end
            local function burn(n)
              local s = 0
              for i = 1, n do s = s + i % 7 end
              return s
            end
            local t0 = os.clock()
            while os.clock() - t0 < 2 do burn(100000) end
            """;
    private static final Pattern BURN = Pattern.compile("burn \\(.*shortlived\\.lua:[45]\\)");
    private static final Pattern READ = Pattern.compile("lua protos read while sampling: (\\d+) frames read, (\\d+)"
            + " failed, (\\d+) dropped");

    @Test
    void aTargetThatExitsBeforeTheRecordingEndsIsNamed() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        // the workload waits on stdin, so its 2 s of CPU all fall inside the recording, however long the JVM takes
        // to start here
        Process lj = start("wait");
        Path folded = Files.createTempFile(Moonwalk.WORK, "prefetch-pid", ".folded");
        Path errFile = Files.createTempFile(Moonwalk.WORK, "prefetch-pid", ".err");
        long t0 = System.nanoTime();
        Process rec = Moonwalk.command(List.of("record", "--pid", String.valueOf(lj.pid()), "--hz", "199",
                "--duration", "20s", "--output", folded.toString())).redirectError(errFile.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(errFile).contains("recording") && rec.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        lj.getOutputStream().write('\n');
        lj.getOutputStream().flush();
        assertThat(rec.waitFor(60, TimeUnit.SECONDS)).isTrue();
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        Moonwalk.Result r = new Moonwalk.Result(rec.exitValue(), "", Files.readString(errFile));
        System.out.print(r.stderr());
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(lj.waitFor(5, TimeUnit.SECONDS)).isTrue();
        // the recording stopped because its target exited: naming ran after the process was gone
        assertThat(r.stderr()).contains("(all target processes exited)");
        assertThat(took).as("record ends when its target exits, not after 20 s").isLessThan(15_000);
        check(Folded.read(folded).ofProcess("luajit"), r.stderr());
    }

    @Test
    void aNewProcessThatExitsMidRecordingIsNamedInAWholeHostRecording() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        Path folded = Files.createTempFile(Moonwalk.WORK, "prefetch-host", ".folded");
        Process record = Moonwalk.command(List.of("record", "--hz", "199", "--duration", "6s", "--output",
                folded.toString())).redirectError(Moonwalk.WORK.resolve("prefetch-host.err").toFile()).start();
        Thread.sleep(2000);
        Process lj = start();
        assertThat(lj.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(record.isAlive()).as("the recording outlives the workload").isTrue();
        assertThat(record.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(Moonwalk.WORK.resolve("prefetch-host.err"));
        System.out.print(err);
        assertThat(record.exitValue()).as(err).isZero();
        Folded all = Folded.read(folded);
        // whole host: other luajit processes of other tests may run; keep the samples of this one script
        Folded ours = new Folded(all.ofProcess("luajit").lines().stream()
                .filter(l -> l.frames().stream().anyMatch(f -> f.contains("shortlived.lua")
                        || f.equals("[invalid lua frame]"))).toList());
        check(ours, err);
    }

    private static Process start(String... args) throws Exception {
        Files.createDirectories(Moonwalk.WORK);
        Path script = Moonwalk.WORK.resolve("shortlived.lua");
        Files.writeString(script, SCRIPT);
        List<String> cmd = new java.util.ArrayList<>(List.of("luajit", "-joff", script.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(Moonwalk.WORK.resolve("shortlived.log").toFile()).start();
    }

    private static void check(Folded p, String summary) {
        long burn = p.countMatching(l -> l.frames().stream().anyMatch(f -> BURN.matcher(f).matches()));
        long invalid = p.countMatching(l -> l.frames().contains("[invalid lua frame]"));
        long stale = p.countMatching(l -> l.frames().contains("[stale lua frame]"));
        long mainChunk = p.countMatching(l -> l.frames().stream().anyMatch(f -> f.startsWith("main chunk (")
                && f.contains("shortlived.lua")));
        System.out.printf("short-lived luajit: %d samples, %d in burn, %d under its main chunk, %d invalid, %d stale%n",
                p.total(), burn, mainChunk, invalid, stale);
        assertThat(p.total()).as("samples of the short-lived process").isGreaterThan(100);
        assertThat(invalid).as("Lua frames left unnamed").isZero();
        assertThat(stale).isZero();
        assertThat(burn).as("samples in burn, named").isGreaterThan(p.total() / 2);
        assertThat(mainChunk).isGreaterThan(p.total() / 2);
        Matcher m = READ.matcher(summary);
        assertThat(m.find()).as("the summary reports the prefetch: " + summary).isTrue();
        assertThat(Long.parseLong(m.group(1))).as("frames read while sampling").isPositive();
    }
}
