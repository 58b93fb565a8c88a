package io.moonwalk.agent.bench;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.unwinder.cfi.CfiFormatException;
import io.moonwalk.unwinder.cfi.FileUnwindInfo;
import io.moonwalk.unwinder.cfi.RuleDictionary;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

/**
 * {@code moonwalk bench --unwind-table FILE}: how long the agent takes to turn one ELF file into its unwind table
 * (open, read the CFI, build and deduplicate the rows), the first time in this JVM (cold: class loading, the
 * interpreter, the JIT compilers' start; what an agent pays for libc right after it starts) and then warm. Each
 * build uses a fresh rule dictionary, as a new file would.
 */
public final class UnwindTableBenchmark {
    private UnwindTableBenchmark() {
    }

    /** The figures of one run. */
    public record Result(Path file, int entries, long coldNanos, long coldCpuNanos, long jvmStartToColdEndMillis,
            long[] warmNanos) {
        public void print(PrintStream out) {
            out.printf("unwind table of %s: %d rows%n", file, entries);
            out.printf("cold build (first in this JVM): %.1f ms wall, %.1f ms CPU of all JVM threads; JVM start to "
                    + "its end: %d ms%n", coldNanos / 1e6, coldCpuNanos / 1e6, jvmStartToColdEndMillis);
            if (warmNanos.length > 0) {
                long[] w = warmNanos.clone();
                Arrays.sort(w);
                out.printf("warm builds: %d, median %.1f ms, min %.1f ms, max %.1f ms%n", w.length,
                        w[w.length / 2] / 1e6, w[0] / 1e6, w[w.length - 1] / 1e6);
            }
        }
    }

    /** Builds the table of {@code file} once cold and {@code repeat} times warm. */
    public static Result run(Path file, int repeat) throws IOException, CfiFormatException {
        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        int entries = build(file);
        long cold = System.nanoTime() - t0;
        long coldCpu = processCpuNanos() - c0;
        long sinceStart = ProcessHandle.current().info().startInstant()
                .map(s -> Duration.between(s, Instant.now()).toMillis()).orElse(-1L);
        long[] warm = new long[repeat];
        for (int i = 0; i < repeat; i++) {
            long t = System.nanoTime();
            if (build(file) != entries) {
                throw new IllegalStateException("the table of " + file + " changed between builds");
            }
            warm[i] = System.nanoTime() - t;
        }
        return new Result(file, entries, cold, coldCpu, sinceStart, warm);
    }

    /**
     * On-CPU time of every thread of this JVM (the first field of each {@code /proc/self/task/TID/schedstat}), so the
     * cold figure includes the JIT compilers and the GC and does not depend on how busy the machine is; -1 when
     * unreadable.
     */
    static long processCpuNanos() {
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    String line = Files.readString(t.resolve("schedstat"));
                    sum += Long.parseLong(line.substring(0, line.indexOf(' ')));
                } catch (IOException | RuntimeException gone) {
                    // a thread that ended while listing: its time is no longer counted anywhere
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return sum;
    }

    private static int build(Path file) throws IOException, CfiFormatException {
        try (ElfFile elf = ElfFile.open(file)) {
            return FileUnwindInfo.build(elf, file, new RuleDictionary()).table().entryCount();
        }
    }
}
