package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replay and the live kernel agree on a plain LuaJIT process (issue 12's acceptance, beside StackCoreNginxIT's nginx
 * case): while {@code moonwalk record} samples testdata/lua/inline3.lua (outer -> mid -> leaf, pure Lua: no C call
 * but its os.clock check between million-iteration loops), four cores are taken with gcore; each replays with
 * {@code moonwalk stack --core} to a stack the kernel walker recorded for the same process, frame by frame from
 * {@code _start} to the leaf: with the JIT off the interpreter's Lua frames with their lines; with it on the trace's
 * frame (outer) and the frames LuaJIT inlined into it (mid, leaf) with the lines of the snapshot covering the PC.
 */
class StackCoreLuajitIT {
    @BeforeAll
    static void root() {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"interpreter", "jit"})
    void coresReplayToStacksTheKernelRecorded(String mode) throws Exception {
        boolean jit = mode.equals("jit");
        Path dir = Files.createTempDirectory(Moonwalk.WORK, "core-" + mode);
        List<String> args = new ArrayList<>();
        if (!jit) {
            args.add("-joff");
        }
        // gcore stops a process where it next enters the kernel: with the JIT on, inline3's clock check between loops
        // of 1e6 iterations (a clock_gettime system call every few ms) took every core of two runs; 1e9 iterations a
        // check keep the Lua code running for seconds between them (the process is killed at the end)
        args.addAll(List.of(Moonwalk.ROOT.resolve("testdata/lua/inline3.lua").toString(), "60", "-", "1000000000"));
        Process lj = LuajitWalkIT.start(LuajitWalkIT.variant("luajit2"), args.toArray(String[]::new));
        try {
            double cpu0 = Moonwalk.cpuSeconds(lj.pid());
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Moonwalk.cpuSeconds(lj.pid()) - cpu0 < 0.5) {
                assertThat(System.nanoTime()).as("the workload runs within 30 s").isLessThan(waitUntil);
                Thread.sleep(100);
            }
            Path folded = dir.resolve("live.folded");
            Process record = Moonwalk.command(List.of("record", "--pid", Long.toString(lj.pid()), "--hz", "499",
                    "--duration", "6s", "--output", folded.toString()))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("record.out").toFile()).start();
            Thread.sleep(2500); // the recording samples before and after the cores
            List<Path> cores = CoreAgreement.gcores(lj.pid(), dir, 4, 300);
            assertThat(record.waitFor(60, TimeUnit.SECONDS)).as("the recording ends").isTrue();
            assertThat(record.exitValue()).as(Files.readString(dir.resolve("record.out"))).isZero();
            List<CoreAgreement.Replayed> replayed = new ArrayList<>();
            int inTraces = 0;
            for (Path core : cores) {
                CoreAgreement.Replayed r = CoreAgreement.replay(core);
                System.out.printf("stack --core of luajit %d (%s), core %d bytes:%n%s", lj.pid(), mode, r.bytes(),
                        r.text());
                List<String> frames = r.frames();
                int chunk = index(frames, "main chunk (");
                assertThat(frames.get(chunk - 1)).as("outer right above the main chunk in %s", frames)
                        .startsWith("outer (");
                assertThat(frames).as("no error frame").noneMatch(f -> f.contains("unwind error"));
                boolean trace = frames.stream().anyMatch(f -> f.endsWith("_[j]") || f.endsWith("_[i]"));
                assertThat(!jit && trace).as("JIT frames with the JIT off: %s", frames).isFalse();
                inTraces += trace ? 1 : 0;
                replayed.add(r);
            }
            if (jit) {
                // outer's loop trace holds nearly all the CPU time (LuajitJitWalkIT: > 50 % of samples in traces)
                assertThat(inTraces).as("cores whose leaf is in a trace").isPositive();
            }
            Folded live = Folded.read(folded).ofProcess("luajit");
            // 499 Hz for 6 s asks for ~3000; a loaded 2-core host (load 14-18) gave 487-1563, and the replayed
            // stacks' own counts in them were 37-1403: 200 samples still hold every stack the cores showed
            assertThat(live.total()).as("samples recorded").isGreaterThan(200);
            CoreAgreement.assertRecorded("luajit " + mode, replayed, live);
        } finally {
            lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static int index(List<String> frames, String prefix) {
        for (int i = 0; i < frames.size(); i++) {
            if (frames.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no frame starting with '" + prefix + "' in " + frames);
    }
}
