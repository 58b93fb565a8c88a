package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Replay against the live kernel, for the ITs that check both walk the same: cores taken with gdb's {@code gcore}
 * from a process that {@code moonwalk record} samples meanwhile, each replayed with {@code moonwalk stack --core},
 * and the check that a replayed stack is one the kernel walker recorded for the same process.
 */
final class CoreAgreement {
    private CoreAgreement() {
    }

    /**
     * {@code count} cores of {@code pid}, {@code gapMillis} apart, taken before any is replayed (so all fall inside
     * the recording). Each gcore stops the process for a moment.
     */
    static List<Path> gcores(long pid, Path dir, int count, long gapMillis) throws Exception {
        List<Path> cores = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Path core = dir.resolve("core" + i);
            Moonwalk.tool("gcore", "-o", core.toString(), Long.toString(pid));
            Path file = Path.of(core + "." + pid);
            assertThat(file).as("gcore wrote a core of " + pid).isRegularFile();
            cores.add(file);
            Thread.sleep(gapMillis);
        }
        return cores;
    }

    /**
     * One replayed core.
     *
     * @param frames the text rendering's frames, leaf first, without their {@code #N} index
     * @param stack  the folded rendering's stack, root first, without the process name and the count
     */
    record Replayed(Path core, long bytes, String text, List<String> frames, String stack) {
    }

    /** {@code moonwalk stack --core} of {@code core} as text and as folded (one thread); the core is deleted after. */
    static Replayed replay(Path core) throws Exception {
        Moonwalk.Result text = Moonwalk.run(Duration.ofSeconds(120), "stack", "--core", core.toString());
        assertThat(text.exitCode()).as(text.stderr()).isZero();
        Moonwalk.Result folded = Moonwalk.run(Duration.ofSeconds(120), "stack", "--core", core.toString(),
                "--format", "folded");
        assertThat(folded.exitCode()).as(folded.stderr()).isZero();
        long bytes = Files.size(core);
        Files.delete(core);
        List<String> lines = folded.stdout().lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines).as("one thread's folded stack: %s", folded.stdout()).hasSize(1);
        String line = lines.getFirst();
        String frames = line.substring(0, line.lastIndexOf(' '));
        List<String> textFrames = text.stdout().lines().filter(l -> l.startsWith("#"))
                .map(l -> l.replaceFirst("^#\\d+\\s+", "")).toList();
        return new Replayed(core, bytes, text.stdout(), textFrames, frames.substring(frames.indexOf(';') + 1));
    }

    /**
     * The user stacks of a recording with their sample counts: the root (the process name) and kernel frames (a sample
     * that hit the kernel on its way back to user code) left out, as a core holds user registers only.
     */
    static Map<String, Long> recordedStacks(Folded live) {
        Map<String, Long> stacks = new HashMap<>();
        for (Folded.Line l : live.lines()) {
            List<String> user = l.frames().subList(1, l.frames().size()).stream().filter(f -> !f.endsWith("_[k]"))
                    .toList();
            stacks.merge(String.join(";", user), l.count(), Long::sum);
        }
        return stacks;
    }

    /**
     * Each replayed stack is one the kernel walker recorded for a sample of the same process: the same frames from
     * the root to the leaf (Lua frames with their lines, inlined JIT frames, native frames as record names them).
     * Prints each core's agreement: how many of the recording's samples had its stack.
     */
    static void assertRecorded(String what, List<Replayed> replayed, Folded live) {
        Map<String, Long> kernel = recordedStacks(live);
        long total = live.total();
        int agreeing = 0;
        for (Replayed r : replayed) {
            long n = kernel.getOrDefault(r.stack(), 0L);
            agreeing += n > 0 ? 1 : 0;
            System.out.printf("%s: replayed %s%n  %s among %d recorded samples (%d distinct stacks): %d%n", what,
                    r.stack(), n > 0 ? "AGREES:" : "NOT FOUND:", total, kernel.size(), n);
        }
        System.out.printf("%s: %d of %d replayed cores agree with the kernel's recording%n", what, agreeing,
                replayed.size());
        for (Replayed r : replayed) {
            assertThat(kernel).as("%s: the recorded stacks of the same process hold the replayed one", what)
                    .containsKey(r.stack());
        }
    }
}
