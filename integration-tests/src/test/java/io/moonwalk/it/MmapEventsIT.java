package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The mmap event profile ({@code record --mmap-events}) on a LuaJIT process that keeps compiling into a tiny mcode
 * budget (testdata/lua/mcode_churn.lua): its per-process counts of mmap, munmap and mprotect calls equal what
 * {@code perf stat} counts on the kernel's own syscall tracepoints for the same process over the same calls (the
 * workload starts its calls only after both observers are attached, and stays alive after them), and the event
 * profile's calls are under the Lua function that triggers the compiles.
 */
class MmapEventsIT {
    private static final Pattern COUNTS = Pattern.compile(
            "pid (\\d+): mmap (\\d+) \\([^)]*\\), munmap (\\d+) \\([^)]*\\), mprotect (\\d+)");

    @BeforeAll
    static void requireRoot() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    @Test
    void mappingCallsMatchPerfAndSitUnderTheCompilingLuaFunction() throws Exception {
        Path dir = Files.createDirectories(Moonwalk.WORK.resolve("mmap-events"));
        Path go = dir.resolve("go");
        Files.deleteIfExists(go);
        Process lj = new ProcessBuilder("luajit", Moonwalk.ROOT.resolve("testdata/lua/mcode_churn.lua").toString(),
                go.toString(), "20000").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Process rec = null;
        Process perf = null;
        try {
            Path folded = dir.resolve("cpu.folded");
            Path err = dir.resolve("record.err");
            rec = Moonwalk.command(List.of("record", "--pid", Long.toString(lj.pid()), "--duration", "60s",
                    "--mmap-events", "--output", folded.toString()))
                    .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(err).contains("recording") && rec.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(Files.readString(err)).as("record announces it is recording").contains("recording");
            Path perfOut = dir.resolve("perf.csv");
            perf = new ProcessBuilder("perf", "stat", "-x,", "-o", perfOut.toString(), "-e",
                    "syscalls:sys_enter_mmap,syscalls:sys_enter_munmap,syscalls:sys_enter_mprotect", "-p",
                    Long.toString(lj.pid())).redirectErrorStream(true).redirectOutput(dir.resolve("perf.log").toFile())
                    .start();
            Thread.sleep(2000); // perf attaches its counters
            Files.writeString(go, "go\n");
            BufferedReader out = new BufferedReader(new InputStreamReader(lj.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as("the workload's own printout").isEqualTo("compiled 20000");
            Moonwalk.tool("kill", "-INT", Long.toString(perf.pid()));
            assertThat(perf.waitFor(30, TimeUnit.SECONDS)).as("perf stat ends").isTrue();
            rec.destroy(); // SIGTERM: record stops early and writes its outputs
            assertThat(rec.waitFor(60, TimeUnit.SECONDS)).as("record ends").isTrue();
            String summary = Files.readString(err);
            assertThat(rec.exitValue()).as(summary).isZero();

            Map<String, Long> truth = new HashMap<>();
            for (String l : Files.readAllLines(perfOut)) {
                String[] f = l.split(",");
                if (f.length > 2 && f[2].startsWith("syscalls:sys_enter_")) {
                    truth.put(f[2].substring("syscalls:sys_enter_".length()), Long.parseLong(f[0]));
                }
            }
            Matcher m = COUNTS.matcher(summary);
            assertThat(m.find()).as("per-process counts in the summary:\n" + summary).isTrue();
            assertThat(Long.parseLong(m.group(1))).isEqualTo(lj.pid());
            long mmap = Long.parseLong(m.group(2));
            long munmap = Long.parseLong(m.group(3));
            long mprotect = Long.parseLong(m.group(4));
            Folded events = Folded.read(dir.resolve("cpu.mmap.folded"));
            long underCompile = events.countMatching(l -> l.frames().stream().anyMatch(f -> f.startsWith("compile_one ")));
            System.out.printf("mmap events of the churning LuaJIT process: moonwalk mmap %d munmap %d mprotect %d;"
                            + " perf stat (sys_enter tracepoints) %s; event profile %d calls, %d (%.1f%%) under"
                            + " compile_one%n%s", mmap, munmap, mprotect, truth, events.total(), underCompile,
                    100.0 * underCompile / Math.max(1, events.total()), summary);
            events.lines().stream().sorted((a, b) -> Long.compare(b.count(), a.count())).limit(4)
                    .forEach(l -> System.out.println("  " + l.count() + " " + l.joined()));
            assertThat(truth.get("mmap")).as("perf saw the churn").isGreaterThan(20);
            assertThat((double) mmap + munmap).as("mmap + munmap calls vs perf stat")
                    .isBetween(0.95 * (truth.get("mmap") + truth.get("munmap")),
                            1.05 * (truth.get("mmap") + truth.get("munmap")));
            assertThat((double) mprotect).as("mprotect calls vs perf stat")
                    .isBetween(0.95 * truth.get("mprotect"), 1.05 * truth.get("mprotect"));
            assertThat(100.0 * underCompile / events.total()).as("share of the event profile under compile_one")
                    .isGreaterThanOrEqualTo(80);
        } finally {
            for (Process p : new Process[] {perf, rec}) {
                if (p != null && p.isAlive()) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
            lj.getOutputStream().close();
            if (!lj.waitFor(10, TimeUnit.SECONDS)) {
                lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
