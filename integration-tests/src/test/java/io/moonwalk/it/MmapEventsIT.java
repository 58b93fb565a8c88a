package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.SyscallCounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The mmap event profile ({@code record --mmap-events}) on LuaJIT processes whose JIT keeps mapping machine code:
 * its per-process counts of mmap, munmap and mprotect calls equal what tools outside our code count for the same
 * process over the same calls ({@code perf stat} on the kernel's syscall tracepoints, {@code strace -c}; the
 * workloads start their calls only after every observer is attached and stay alive after them: {@link GatedLuajit}),
 * and the event profile's calls are under the Lua function that triggers the compiles.
 */
class MmapEventsIT {
    private static final Pattern COUNTS = Pattern.compile(
            "pid (\\d+): mmap (\\d+) \\([^)]*\\), munmap (\\d+) \\([^)]*\\), mprotect (\\d+)");

    @BeforeAll
    static void requireRoot() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    /** {@code record --mmap-events} on one process, until {@link #stop()}. */
    private static final class Record implements AutoCloseable {
        final Path dir;
        final Process process;
        final Path err;

        Record(Path dir, long pid) throws Exception {
            this.dir = dir;
            this.err = dir.resolve("record.err");
            process = Moonwalk.command(List.of("record", "--pid", Long.toString(pid), "--duration", "120s",
                    "--mmap-events", "--output", dir.resolve("cpu.folded").toString()))
                    .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(err).contains("recording") && process.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(Files.readString(err)).as("record announces it is recording").contains("recording");
        }

        /** SIGTERM: record stops early and writes its outputs; returns its summary. */
        String stop() throws Exception {
            process.destroy();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("record ends").isTrue();
            String summary = Files.readString(err);
            assertThat(process.exitValue()).as(summary).isZero();
            return summary;
        }

        /** The summary's per-process mmap, munmap, mprotect counts of {@code pid}. */
        static long[] counts(String summary, long pid) {
            Matcher m = COUNTS.matcher(summary);
            while (m.find()) {
                if (Long.parseLong(m.group(1)) == pid) {
                    return new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                            Long.parseLong(m.group(4))};
                }
            }
            throw new AssertionError("no per-process counts of pid " + pid + " in the summary:\n" + summary);
        }

        Folded events() throws Exception {
            return Folded.read(dir.resolve("cpu.mmap.folded"));
        }

        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static void printTop(Folded events) {
        events.lines().stream().sorted((a, b) -> Long.compare(b.count(), a.count())).limit(4)
                .forEach(l -> System.out.println("  " + l.count() + " " + l.joined()));
    }

    private static long under(Folded events, String function) {
        return events.countMatching(l -> l.frames().stream().anyMatch(f -> f.startsWith(function + " ")));
    }

    /** {@code ours} (mmap, munmap, mprotect) within 5 % of {@code truth}, call by call. */
    private static void within5Percent(long[] ours, SyscallCounts truth) {
        for (int i = 0; i < GatedLuajit.MMAP_CALLS.length; i++) {
            String call = GatedLuajit.MMAP_CALLS[i];
            assertThat((double) ours[i]).as(call + " calls: record vs " + truth.tool())
                    .isBetween(0.95 * truth.calls(call), 1.05 * truth.calls(call));
        }
    }

    @Test
    void mappingCallsMatchPerfAndSitUnderTheCompilingLuaFunction() throws Exception {
        Path dir = Files.createDirectories(Moonwalk.WORK.resolve("mmap-events"));
        // mcode_churn.lua: a 64 KiB mcode budget, compile_one loads and runs a new chunk per call
        try (GatedLuajit lj = GatedLuajit.start(dir, "mcode_churn.lua", GatedLuajit.GO, "20000");
             Record rec = new Record(dir, lj.pid())) {
            GatedLuajit.Count perf = lj.count("perf");
            lj.go();
            assertThat(lj.awaitDone("compiled ")).as("the workload's own printout").isEqualTo("compiled 20000");
            SyscallCounts truth = perf.stop();
            String summary = rec.stop();
            long[] ours = Record.counts(summary, lj.pid());
            Folded events = rec.events();
            long underCompile = under(events, "compile_one");
            System.out.printf("mmap events of the churning LuaJIT process: moonwalk mmap %d munmap %d mprotect %d;"
                            + " perf stat (sys_enter tracepoints) %s; event profile %d calls, %d (%.1f%%) under"
                            + " compile_one%n%s", ours[0], ours[1], ours[2], truth.calls(), events.total(),
                    underCompile, 100.0 * underCompile / Math.max(1, events.total()), summary);
            printTop(events);
            assertThat(truth.calls("mmap")).as("perf saw the churn").isGreaterThan(20);
            assertThat((double) ours[0] + ours[1]).as("mmap + munmap calls vs perf stat")
                    .isBetween(0.95 * (truth.calls("mmap") + truth.calls("munmap")),
                            1.05 * (truth.calls("mmap") + truth.calls("munmap")));
            assertThat((double) ours[2]).as("mprotect calls vs perf stat")
                    .isBetween(0.95 * truth.calls("mprotect"), 1.05 * truth.calls("mprotect"));
            assertThat(100.0 * underCompile / events.total()).as("share of the event profile under compile_one")
                    .isGreaterThanOrEqualTo(80);
        }
    }

    /**
     * The crowded mcode storm (testdata/lua/mcode_storm.lua crowd: the 2 GiB around the executable's code filled but
     * for one 64 KiB hole in ten, so LuaJIT's mcode_alloc probes, unmaps what lands out of range and retries, several
     * times per area, the storm Apache Traffic Server hit): record's per-process counts equal strace's and perf's,
     * both attached at once for the whole storm, and the event profile's calls are under compile_more, the Lua
     * function whose calls compile.
     */
    @Test
    void crowdedAddressSpaceStormMatchesStraceAndPerfUnderTheCompilingLuaFunction() throws Exception {
        Path dir = Files.createDirectories(Moonwalk.WORK.resolve("mmap-events-crowd"));
        try (GatedLuajit lj = GatedLuajit.start(dir, "mcode_storm.lua", "crowd", "4", "64", "128", GatedLuajit.GO)) {
            String started = lj.readLine();
            assertThat(started).as("the crowd storm applies to Debian's luajit (a PIE)").startsWith("STARTED crowd");
            try (Record rec = new Record(dir, lj.pid())) {
                // the crowding's own mappings are done (STARTED): record and the tools see only the storm's
                GatedLuajit.Count strace = lj.count("strace");
                GatedLuajit.Count perf = lj.count("perf");
                lj.go();
                String end = lj.awaitDone("END ");
                SyscallCounts byStrace = strace.stop();
                SyscallCounts byPerf = perf.stop();
                String summary = rec.stop();
                long[] ours = Record.counts(summary, lj.pid());
                Folded events = rec.events();
                long underCompile = under(events, "compile_more");
                // END <wall s> traces <n> aborts <n> flushes <n> ...: LuaJIT's own counts of the storm
                String[] e = end.split(" ");
                double seconds = Double.parseDouble(e[1]);
                long flushes = Long.parseLong(e[7]);
                System.out.printf("crowded mcode storm (%s), %.2f s under strace, LuaJIT's own counts: %s traces,"
                                + " %s aborts, %d flushes;%n  record --mmap-events: mmap %d (%.0f/s) munmap %d (%.0f/s)"
                                + " mprotect %d (%.0f/s)%n  strace -c: %s%n  perf stat: %s%n  munmaps per mcode area"
                                + " (2 per flush): %.1f; event profile %d calls, %d (%.1f%%) under compile_more%n%s",
                        started.substring(started.indexOf("reserved")), seconds, e[3], e[5], flushes, ours[0],
                        ours[0] / seconds, ours[1], ours[1] / seconds, ours[2], ours[2] / seconds, byStrace.calls(),
                        byPerf.calls(), (double) ours[1] / Math.max(1, 2 * flushes), events.total(), underCompile,
                        100.0 * underCompile / Math.max(1, events.total()), summary);
                printTop(events);
                assertThat(flushes).as("LuaJIT flushed in the storm").isPositive();
                assertThat((double) byStrace.calls("munmap") / (2 * flushes))
                        .as("the crowded storm: several probes unmapped per mcode area").isGreaterThan(3);
                within5Percent(ours, byStrace);
                within5Percent(ours, byPerf);
                assertThat(100.0 * underCompile / events.total()).as("share of the event profile under compile_more")
                        .isGreaterThanOrEqualTo(80);
            }
        }
    }
}
