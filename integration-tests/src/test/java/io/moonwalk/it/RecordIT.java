package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code moonwalk record} against real processes on the real kernel. */
class RecordIT {
    @BeforeAll
    static void root() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    @Test
    void framePointerChainIsComplete() throws Exception {
        Path exe = Moonwalk.compile("chain", "-O2", "-fno-omit-frame-pointer", "-fno-builtin-gamma");
        Process target = new ProcessBuilder(exe.toString(), "15").start();
        try {
            Path folded = Files.createTempFile(Moonwalk.WORK, "chain", ".folded");
            double cpuBefore = Moonwalk.cpuSeconds(target.pid());
            Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(60), "record", "--pid", String.valueOf(target.pid()),
                    "--hz", "99", "--duration", "5s", "--output", folded.toString());
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            Folded profile = Folded.read(folded);
            String process = exe.getFileName().toString().substring(0, Math.min(15, exe.getFileName().toString().length()));
            Folded mine = profile.ofProcess(process);
            assertThat(mine.total()).as("only the --pid process is recorded").isEqualTo(profile.total());
            // the process ran for at most the 5 s at 99 Hz, plus JVM start-up; on a loaded machine it
            // gets less CPU, so compare with the CPU time it actually used (a sample per 1/99 s on CPU)
            double cpu = Moonwalk.cpuSeconds(target.pid()) - cpuBefore;
            System.out.printf("chain: %.2f s on CPU during record, %d samples%n", cpu, mine.total());
            assertThat(mine.total()).isGreaterThan(50);
            assertThat((double) mine.total()).isLessThanOrEqualTo(cpu * 99 * 1.1 + 5);
            long complete = mine.countMatching(l -> l.joined().contains("main;alpha;beta;gamma"));
            double share = 100.0 * complete / mine.total();
            System.out.printf("chain: %d of %d samples (%.1f%%) have main;alpha;beta;gamma%n", complete, mine.total(), share);
            assertThat(share).isGreaterThanOrEqualTo(95.0);
        } finally {
            target.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void syscallHeavyProgramShowsKernelFramesAboveUserFrames() throws Exception {
        Path exe = Moonwalk.compile("syscalls", "-O2", "-fno-omit-frame-pointer");
        Process target = new ProcessBuilder(exe.toString(), "12").start();
        try {
            Path folded = Files.createTempFile(Moonwalk.WORK, "syscalls", ".folded");
            Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(60), "record", "--pid", String.valueOf(target.pid()),
                    "--duration", "4s", "--output", folded.toString());
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            Folded profile = Folded.read(folded);
            // kernel frames (_[k]) sit on the leaf side of the user frames, in one stack; the DWARF walker
            // follows libc's write/getppid wrappers (no frame pointer) back to do_syscalls and main
            long kernelAboveUser = profile.countMatching(l -> {
                int user = l.frames().indexOf("do_syscalls");
                return user > 0 && l.frames().indexOf("main") == user - 1
                        && l.frames().subList(user + 1, l.frames().size()).stream().anyMatch(f -> f.endsWith("_[k]"));
            });
            long syscallNamed = profile.countMatching(l -> l.frames().stream()
                    .anyMatch(f -> f.endsWith("_[k]") && (f.contains("sys_write") || f.contains("sys_getppid"))));
            System.out.printf("syscalls: %d samples, %d with kernel frames above main;do_syscalls, %d in sys_write/sys_getppid%n",
                    profile.total(), kernelAboveUser, syscallNamed);
            assertThat(100.0 * kernelAboveUser / profile.total()).isGreaterThan(50.0);
            assertThat(syscallNamed).isGreaterThan(0);
            assertThat(profile.lines()).noneMatch(l -> l.frames().stream()
                    .anyMatch(f -> f.endsWith("_[k]") && f.matches("(0x)?[0-9a-f]+_\\[k\\]")));
        } finally {
            target.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /**
     * Google's pprof (built by scripts/bootstrap from Debian's Go sources) reads a recorded pprof of a LuaJIT
     * script: Lua frames as function + file:line in the script's call order, native frames with their addresses,
     * and the executable's mapping with the build id readelf reports.
     */
    @Test
    void googlePprofShowsLuaFileLinesAndNativeAddresses() throws Exception {
        Path pprof = Path.of("/var/cache/moonwalk-tools/pprof");
        assertThat(Files.isExecutable(pprof)).as("%s: run scripts/bootstrap", pprof).isTrue();
        Path script = Moonwalk.WORK.resolve("pprof-lines.lua");
        Files.createDirectories(Moonwalk.WORK);
        Files.writeString(script, """
                local function leaf(n) local s = 0 for i = 1, n do s = s + i % 7 end return s end
                local function mid(n) return leaf(n) + 1 end
                while true do mid(100000) end
                """);
        Process target = new ProcessBuilder("luajit", "-joff", script.toString()).start();
        try {
            Path out = Moonwalk.WORK.resolve("pprof-lines.pb.gz");
            Files.deleteIfExists(out);
            Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(60), "record", "--pid", String.valueOf(target.pid()),
                    "--hz", "99", "--duration", "4s", "--output", out.toString());
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            String exe = Files.readSymbolicLink(Path.of("/proc/" + target.pid() + "/exe")).toString();
            String buildId = Moonwalk.run(new ProcessBuilder("readelf", "-n", exe), Duration.ofSeconds(20)).stdout()
                    .lines().filter(l -> l.contains("Build ID:")).map(l -> l.substring(l.indexOf("Build ID:") + 9).trim())
                    .findFirst().orElseThrow();
            String lines = Moonwalk.run(new ProcessBuilder(pprof.toString(), "-symbolize=none", "-traces", "-lines",
                    out.toString()), Duration.ofSeconds(60)).stdout();
            String addresses = Moonwalk.run(new ProcessBuilder(pprof.toString(), "-symbolize=none", "-traces",
                    "-addresses", out.toString()), Duration.ofSeconds(60)).stdout();
            String raw = Moonwalk.run(new ProcessBuilder(pprof.toString(), "-symbolize=none", "-raw", out.toString()),
                    Duration.ofSeconds(60)).stdout();
            String file = java.util.regex.Pattern.quote(script.toString());
            System.out.println("pprof -traces -lines (first trace):\n" + firstTrace(lines));
            System.out.println("pprof -traces -addresses (first trace):\n" + firstTrace(addresses));
            raw.lines().filter(l -> l.contains(exe) || l.contains(" leaf ")).limit(4)
                    .forEach(l -> System.out.println("pprof -raw: " + l));
            assertThat(lines).containsPattern("(?m)leaf " + file + ":1\\n +mid " + file + ":2\\n +main chunk "
                    + file + ":3$");
            // native frames under the Lua ones carry addresses (16 hex digits before the name)
            assertThat(addresses).containsPattern("(?m)main chunk " + file + ":3\\n( +[0-9a-f]{16} \\S.*\\n)+");
            // the executable's mapping: start/limit/offset, path and the build id readelf reports
            assertThat(raw).containsPattern("(?m)^\\d+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ "
                    + java.util.regex.Pattern.quote(exe) + " " + buildId);
            // a Lua location: address 0, function, file:line, start line
            assertThat(raw).containsPattern("(?m)^ +\\d+: 0x0 leaf " + file + ":1 s=1$");
        } finally {
            target.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static String firstTrace(String traces) {
        int start = traces.indexOf("-----------+");
        int end = traces.indexOf("-----------+", start + 1);
        return start < 0 || end < 0 ? traces : traces.substring(start, end);
    }

    @Test
    void leavesNoProgramsLinksOrPerfEventsBehind() throws Exception {
        Path out = Moonwalk.WORK.resolve("cleanup.folded");
        Files.deleteIfExists(out);
        Running r = Running.start(List.of("record", "--duration", "3s", "--output", out.toString()));
        Set<Integer> ids = r.awaitRecordingAndOurProgramIds();
        assertThat(r.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(r.process().exitValue()).as(r.stderr()).isZero();
        assertThat(Folded.read(out).total()).isPositive();
        assertGone(ids);
    }

    @Test
    void sigintAndSigtermStopEarlyWriteTheProfileAndDetach() throws Exception {
        for (String signal : List.of("INT", "TERM")) {
            Path out = Moonwalk.WORK.resolve("signal-" + signal + ".folded");
            Files.deleteIfExists(out);
            Running r = Running.start(List.of("record", "--duration", "120s", "--output", out.toString()));
            Set<Integer> ids = r.awaitRecordingAndOurProgramIds();
            Thread.sleep(1500);
            long sent = System.nanoTime();
            Moonwalk.tool("kill", "-" + signal, String.valueOf(r.process().pid()));
            assertThat(r.process().waitFor(10, TimeUnit.SECONDS)).as("exits after SIG" + signal).isTrue();
            System.out.printf("SIG%s: exited %d after %d ms%n", signal, r.process().exitValue(),
                    (System.nanoTime() - sent) / 1_000_000);
            assertThat(r.process().exitValue()).as(r.stderr()).isZero();
            assertThat(Folded.read(out).total()).isPositive();
            assertGone(ids);
        }
    }

    /** A record process started in the background, with its stderr in a file. */
    record Running(Process process, Path err) {
        static Running start(List<String> args) throws Exception {
            Files.createDirectories(Moonwalk.WORK);
            Path err = Files.createTempFile(Moonwalk.WORK, "running", ".err");
            Process p = Moonwalk.command(args).redirectError(err.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return new Running(p, err);
        }

        String stderr() throws Exception {
            return Files.readString(err);
        }

        /** Waits for "recording" on stderr, then returns the ids of the BPF programs this process holds. */
        Set<Integer> awaitRecordingAndOurProgramIds() throws Exception {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!stderr().contains("recording") && System.nanoTime() < deadline && process.isAlive()) {
                Thread.sleep(100);
            }
            assertThat(stderr()).as("record announces it is recording").contains("recording");
            // ours are the mw_ programs this process holds fds of (other tests and helpers load mw_ programs
            // concurrently, so "appeared since it started" would claim theirs)
            Set<Integer> ids = moonwalkProgramIds();
            ids.retainAll(heldBy(process.pid()));
            assertThat(ids).as("our sampler and exit programs are loaded while recording").hasSizeGreaterThanOrEqualTo(2);
            String perf = Moonwalk.tool("bpftool", "perf", "show");
            assertThat(perf).as("perf events attached by pid " + process.pid()).contains("pid " + process.pid() + " ");
            return ids;
        }
    }

    /** The ids of the BPF programs process {@code pid} holds (its fdinfo). */
    static Set<Integer> heldBy(long pid) throws Exception {
        Set<Integer> ids = new TreeSet<>();
        for (long id : BpfObjects.idsHeldBy("prog", pid)) {
            ids.add(Math.toIntExact(id));
        }
        return ids;
    }

    static Set<Integer> moonwalkProgramIds() throws Exception {
        Set<Integer> ids = new TreeSet<>();
        for (String line : Moonwalk.tool("bpftool", "prog", "show").lines().toList()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+): .*name mw_").matcher(line);
            if (m.find()) {
                ids.add(Integer.parseInt(m.group(1)));
            }
        }
        return ids;
    }

    /** None of the programs, links or perf attachments of a finished record remain in the kernel. */
    static void assertGone(Set<Integer> ids) throws Exception {
        String progs = Moonwalk.tool("bpftool", "prog", "show");
        for (int id : ids) {
            assertThat(progs).as("bpftool prog show").doesNotContainPattern("(?m)^" + id + ": ");
        }
        String links = Moonwalk.tool("bpftool", "link", "show");
        for (int id : ids) {
            assertThat(links).as("bpftool link show").doesNotContainPattern("prog " + id + "\\b");
        }
        String perf = Moonwalk.tool("bpftool", "perf", "show");
        for (int id : ids) {
            assertThat(perf).as("bpftool perf show").doesNotContainPattern("prog_id " + id + "\\b");
        }
    }
}
