package io.moonwalk.agent.bpf;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Stage;
import org.junit.jupiter.api.Tag;
import static io.moonwalk.bpf.layout.RecordLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sampler on this machine's kernel (root): real perf events, real child processes. */
@Tag("kernel")
class BpfSamplerTest {
    /** A sample copied out of the ring buffer. */
    record Sample(int pid, int tid, int flags, int kernelFrames, long[] words) {
        long[] userWords() {
            long[] u = new long[words.length - kernelFrames];
            System.arraycopy(words, kernelFrames, u, 0, u.length);
            return u;
        }
    }

    static class Collector implements RecordHandler {
        final List<Sample> samples = new ArrayList<>();
        final List<Integer> exits = new ArrayList<>();

        @Override
        public void onSample(SampleRecord r) {
            long[] words = new long[r.frameWords()];
            for (int i = 0; i < words.length; i++) {
                words[i] = r.frameWord(i);
            }
            samples.add(new Sample(r.pid(), r.tid(), r.flags(), r.kernelFrames(), words));
        }

        @Override
        public void onExit(int pid, long ktimeNanos) {
            exits.add(pid);
        }
    }

    private static Burner burner;
    private static long kernelTextStart;
    private static long kernelTextEnd;
    private final List<Process> children = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        burner = Burner.get();
        for (String line : Files.readAllLines(Path.of("/proc/kallsyms"))) {
            String[] p = line.split(" ");
            if (p[2].equals("_stext")) {
                kernelTextStart = Long.parseUnsignedLong(p[0], 16);
            } else if (p[2].equals("_etext")) {
                kernelTextEnd = Long.parseUnsignedLong(p[0], 16);
            }
        }
        assertThat(kernelTextStart).as("_stext from /proc/kallsyms (root sees real addresses)").isNotZero();
    }

    @AfterEach
    void stopChildren() throws InterruptedException {
        for (Process p : children) {
            if (p.isAlive()) {
                Burner.stop(p);
            }
        }
    }

    private Process start(boolean syscalls) throws IOException {
        Process p = burner.start(syscalls);
        children.add(p);
        return p;
    }

    private static void drainFor(BpfSampler sampler, RecordHandler h, long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            Thread.sleep(200);
            sampler.drain(h);
        }
    }

    @Test
    void samplesOnlyTheSelectedProcessWithUserAndKernelStacks() throws Exception {
        Process target = start(true);
        Process other = start(false);
        int pid = (int) target.pid();
        Set<String> fdsBefore = bpfAndPerfFds();
        List<Integer> programIds;
        Collector c = new Collector();
        long[] stats;

        try (BpfSampler sampler = BpfSampler.open(SamplerOptions.forPids(99, Set.of(pid)))) {
            assertThat(sampler.sampledCpus()).isEqualTo(OnlineCpus.read().length);
            // headroom for the weaker state pruning of older (5.15) verifiers; the limit is 1M
            assertThat(sampler.verifiedInstructions(BpfSampler.SAMPLE_PROGRAM)).isBetween(1, 100_000);
            int walk = sampler.verifiedInstructions(BpfSampler.WALK_PROGRAM);
            int luaWalk = sampler.verifiedInstructions(BpfSampler.LUA_WALK_PROGRAM);
            System.out.printf("verified instructions: %s %d, %s %d, %s %d%n", BpfSampler.SAMPLE_PROGRAM,
                    sampler.verifiedInstructions(BpfSampler.SAMPLE_PROGRAM), BpfSampler.WALK_PROGRAM, walk,
                    BpfSampler.LUA_WALK_PROGRAM, luaWalk);
            assertThat(walk).isBetween(1, 300_000);
            assertThat(luaWalk).isBetween(1, 300_000);
            programIds = sampler.programIds();
            assertThat(bpftoolProgs()).contains("name " + BpfSampler.SAMPLE_PROGRAM, "name " + BpfSampler.EXIT_PROGRAM);
            Thread.sleep(100); // let the dynamic loader settle before reading /proc/PID/maps
            long[] inner = burner.runtimeRange(pid, "spin_inner");
            long[] outer = burner.runtimeRange(pid, "spin_outer");
            long[] main = burner.runtimeRange(pid, "main");
            List<long[]> exeText = burner.executableMappings(pid);

            double cpuBefore = Burner.cpuSeconds(pid);
            drainFor(sampler, c, 2000);
            double cpu = Burner.cpuSeconds(pid) - cpuBefore;

            // cpu-clock samples follow the CPU time the target got (the host may be busy)
            double expected = cpu * 99;
            assertThat((double) c.samples.size()).as("samples vs %.2f s of target CPU time", cpu)
                    .isGreaterThan(Math.max(10, expected * 0.5)).isLessThan(expected * 1.5 + 20);
            assertThat(c.samples).allSatisfy(s -> assertThat(s.pid()).isEqualTo(pid));
            assertThat(c.samples).noneMatch(s -> s.pid() == other.pid());

            // user-mode samples: the leaf is in spin_inner (it burns ~all user time), no return-address bit
            List<Sample> userMode = c.samples.stream().filter(s -> (s.flags() & SAMPLE_KERNEL_MODE) == 0).toList();
            assertThat(userMode).isNotEmpty();
            long leafInInner = userMode.stream().filter(s -> s.kernelFrames() == 0 && s.userWords().length > 0
                    && in(SampleRecord.address(s.userWords()[0]), inner)
                    && !SampleRecord.isReturnAddress(s.userWords()[0])).count();
            assertThat(leafInInner).as("user-mode samples with leaf in spin_inner").isGreaterThan(userMode.size() * 8 / 10);
            for (Sample s : userMode) {
                long[] u = s.userWords();
                for (int i = 0; i < u.length; i++) {
                    if (SampleRecord.kind(u[i]) == FRAME_NATIVE) {
                        assertThat(SampleRecord.isReturnAddress(u[i])).as("return-address bit of user frame %d", i)
                                .isEqualTo(i > 0);
                    }
                }
            }
            // the frame-pointer chain continues to the callers, as return addresses
            assertThat(userMode).anySatisfy(s -> {
                long[] u = s.userWords();
                assertThat(u.length).isGreaterThanOrEqualTo(3);
                assertThat(in(SampleRecord.address(u[0]), inner)).isTrue();
                assertThat(in(SampleRecord.address(u[1]) - 1, outer)).isTrue();
                assertThat(in(SampleRecord.address(u[2]) - 1, main)).isTrue();
            });
            // every user frame the walk attributes to the burner lies in its executable mapping
            for (Sample s : userMode) {
                long leaf = SampleRecord.address(s.userWords()[0]);
                assertThat(exeText.stream().anyMatch(r -> in(leaf, r)) || !in(leaf, inner)).isTrue();
            }

            // kernel-mode samples (reading /dev/zero): kernel frames first, in kernel text, then user frames
            List<Sample> kernelMode = c.samples.stream().filter(s -> (s.flags() & SAMPLE_KERNEL_MODE) != 0).toList();
            assertThat(kernelMode).as("samples that interrupted the read() syscall").isNotEmpty();
            for (Sample s : kernelMode) {
                assertThat(s.kernelFrames()).isPositive();
                for (int i = 0; i < s.kernelFrames(); i++) {
                    long w = s.words()[i];
                    assertThat(SampleRecord.kind(w)).isEqualTo(FRAME_KERNEL);
                    assertThat(SampleRecord.address(w)).as("kernel frame address").isNegative();
                }
                assertThat(s.userWords()).isNotEmpty();
                assertThat(SampleRecord.kind(s.userWords()[0])).isEqualTo(FRAME_NATIVE);
            }
            assertThat(kernelMode).anySatisfy(s -> assertThat(Long.compareUnsigned(SampleRecord.address(s.words()[0]),
                    kernelTextStart) >= 0 && Long.compareUnsigned(SampleRecord.address(s.words()[0]), kernelTextEnd) < 0)
                    .as("leaf kernel frame inside _stext.._etext").isTrue());
            // a syscall's user stack still reaches the burner's main through its frame pointers
            assertThat(kernelMode).anySatisfy(s -> assertThat(containsReturnInto(s.userWords(), main)).isTrue());

            // the exit of the selected process is reported; the other one is filtered out
            Burner.stop(target);
            Burner.stop(other);
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (!c.exits.contains(pid) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                sampler.drain(c);
            }
            assertThat(c.exits).contains(pid).doesNotContain((int) other.pid());

            stats = sampler.stats();
            assertThat(sampler.malformedRecords()).isZero();
        }
        assertThat(stats[STAT_SAMPLES]).isGreaterThanOrEqualTo(c.samples.size());
        assertThat(stats[STAT_SKIPPED_FILTER]).as("the other burner was seen and skipped").isPositive();
        assertThat(stats[STAT_EXITS]).isPositive();
        assertThat(stats[STAT_RINGBUF_FULL]).isZero();

        assertGone(programIds, fdsBefore);
    }

    @Test
    void wholeHostSamplesEveryBusyProcessButTheAgent() throws Exception {
        Process a = start(false);
        Process b = start(false);
        Set<String> fdsBefore = bpfAndPerfFds();
        List<Integer> programIds;
        Collector c = new Collector();
        try (BpfSampler sampler = BpfSampler.open(SamplerOptions.wholeHost(99))) {
            programIds = sampler.programIds();
            drainFor(sampler, c, 1500);
        }
        Set<Integer> pids = new HashSet<>();
        c.samples.forEach(s -> pids.add(s.pid()));
        assertThat(pids).contains((int) a.pid(), (int) b.pid());
        assertThat(pids).doesNotContain((int) ProcessHandle.current().pid(), 0);
        assertGone(programIds, fdsBefore);
    }

    @Test
    void addPidExtendsTheFilter() throws Exception {
        Process a = start(false);
        Process b = start(false);
        Collector c = new Collector();
        try (BpfSampler sampler = BpfSampler.open(SamplerOptions.forPids(99, Set.of((int) a.pid())))) {
            drainFor(sampler, c, 400);
            assertThat(c.samples).isNotEmpty().noneMatch(s -> s.pid() == b.pid());
            sampler.addPid((int) b.pid());
            c.samples.clear();
            drainFor(sampler, c, 600);
            assertThat(c.samples).anyMatch(s -> s.pid() == b.pid());
        }
    }

    @Test
    void measuresTheKernelCostOfTheSampleProgram() throws Exception {
        start(true);
        try (RunTimeStats on = RunTimeStats.enable();
                BpfSampler sampler = BpfSampler.open(SamplerOptions.wholeHost(99))) {
            ProgramRunTime before = sampler.sampleProgramRunTime();
            drainFor(sampler, new Collector(), 800);
            ProgramRunTime after = sampler.sampleProgramRunTime();
            assertThat(after.program()).isEqualTo(BpfSampler.SAMPLE_PROGRAM);
            assertThat(after.runCount() - before.runCount()).isPositive();
            assertThat(after.nanosPerRunSince(before)).isBetween(1.0, 1_000_000.0);
        }
    }

    @Test
    void closeIsIdempotentAndWaitsForAConcurrentDrain() throws Exception {
        start(false);
        BpfSampler sampler = BpfSampler.open(SamplerOptions.wholeHost(99));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread drainer = new Thread(() -> {
            try {
                for (int i = 0; i < 1000; i++) {
                    sampler.drain(new Collector());
                    Thread.sleep(1);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        drainer.start();
        Thread.sleep(300);
        sampler.close();
        sampler.close();
        drainer.join(10_000);
        assertThat(drainer.isAlive()).isFalse();
        assertThat(failure.get()).isNull();
        assertThat(sampler.drain(new Collector())).isZero();
    }

    @Test
    void aThrowingHandlerIsCountedAndTheDrainGoesOn() throws Exception {
        start(false);
        try (BpfSampler sampler = BpfSampler.open(SamplerOptions.wholeHost(99))) {
            Thread.sleep(300);
            long before = Faults.count(Stage.DRAIN);
            int[] calls = new int[1];
            RecordHandler bad = new Collector() {
                @Override
                public void onSample(SampleRecord r) {
                    calls[0]++;
                    throw new StackOverflowError("handler bug");
                }
            };
            sampler.drain(bad); // contained: neither rethrown nor the end of the drain
            assertThat(calls[0]).as("samples offered to the failing handler").isGreaterThan(1);
            assertThat(Faults.count(Stage.DRAIN) - before).isEqualTo(calls[0]);
            Thread.sleep(200);
            assertThat(sampler.drain(new Collector())).isPositive();
        }
    }

    @Test
    void closeFromInsideAHandlerIsRefusedInsteadOfFreeingTheRingUnderItself() throws Exception {
        start(false);
        BpfSampler sampler = BpfSampler.open(SamplerOptions.wholeHost(99));
        try {
            Thread.sleep(300);
            long before = Faults.count(Stage.DRAIN);
            RecordHandler closing = new Collector() {
                @Override
                public void onSample(SampleRecord r) {
                    sampler.close();
                }
            };
            sampler.drain(closing); // the refused close is a contained fault of that record
            assertThat(Faults.count(Stage.DRAIN)).as("refused closes counted").isGreaterThan(before);
            Thread.sleep(200);
            assertThat(sampler.drain(new Collector())).as("the ring is still there").isPositive();
        } finally {
            sampler.close();
        }
        assertThat(sampler.drain(new Collector())).isZero();
    }

    private static boolean containsReturnInto(long[] userWords, long[] range) {
        for (int i = 1; i < userWords.length; i++) {
            if (SampleRecord.kind(userWords[i]) == FRAME_NATIVE && in(SampleRecord.address(userWords[i]) - 1, range)) {
                return true;
            }
        }
        return false;
    }

    private static boolean in(long addr, long[] range) {
        return Long.compareUnsigned(addr, range[0]) >= 0 && Long.compareUnsigned(addr, range[1]) < 0;
    }

    private static void assertGone(List<Integer> programIds, Set<String> fdsBefore) throws Exception {
        assertThat(bpfAndPerfFds()).as("perf event / BPF fds after close").isEqualTo(fdsBefore);
        assertThat(fdsBefore).noneMatch(l -> l.contains("perf_event") || l.contains("bpf_link"));
        // program teardown is synchronous on fd close, but give RCU-deferred work a moment anyway
        long deadline = System.nanoTime() + 2_000_000_000L;
        Set<Integer> loaded = loadedProgramIds();
        while (programIds.stream().anyMatch(loaded::contains) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            loaded = loadedProgramIds();
        }
        assertThat(loaded).as("program ids listed by bpftool prog show after close").doesNotContainAnyElementsOf(programIds);
    }

    private static Set<Integer> loadedProgramIds() throws Exception {
        Set<Integer> ids = new HashSet<>();
        for (String line : bpftoolProgs().split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0 && line.substring(0, colon).chars().allMatch(Character::isDigit)) {
                ids.add(Integer.parseInt(line.substring(0, colon)));
            }
        }
        return ids;
    }

    /** Other engineers' tests may load mw_ programs on this host at the same time: check ours by id. */
    private static String bpftoolProgs() throws Exception {
        return Burner.run("bpftool", "prog", "show");
    }

    private static Set<String> bpfAndPerfFds() throws IOException {
        Set<String> out = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("anon_inode:") && (target.contains("perf_event") || target.contains("bpf"))) {
                        out.add(fd.getFileName() + " -> " + target);
                    }
                } catch (IOException e) {
                    // the fd closed while listing
                }
            }
        }
        return out;
    }
}
