package io.moonwalk.agent.cli;

import io.moonwalk.agent.preflight.Preflight;
import io.moonwalk.agent.bench.IngestBenchmark;
import io.moonwalk.agent.bench.UnwindTableBenchmark;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code moonwalk bench}: the per-sample cost in the kernel and in the agent (see scripts/bench). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark: kernel ns per sample (BPF run-time stats) while sampling the given processes, "
                + "then the agent's ingest/aggregate/symbolize rate replaying those samples. The processes must keep "
                + "running on a CPU for the whole benchmark. scripts/bench starts a suitable workload. "
                + "With --unwind-table instead: the time to build one file's unwind table, first in this JVM "
                + "(cold) and then warm (no root needed).")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--pid", split = ",", paramLabel = "PID", description = "Process(es) to sample.")
    List<Integer> pids;

    @Option(names = "--unwind-table", paramLabel = "FILE",
            description = "Time the unwind-table build of this ELF file instead of sampling (e.g. libc.so.6).")
    Path unwindTable;

    @Option(names = "--repeat", defaultValue = "20", paramLabel = "N",
            description = "Warm builds after the cold one (--unwind-table). Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Option(names = "--hz", defaultValue = "999", paramLabel = "N", description = "Sampling frequency. Default: ${DEFAULT-VALUE}.")
    int hz;

    @Option(names = "--duration", defaultValue = "10s", converter = DurationConverter.class, paramLabel = "D",
            description = "How long to sample (the replay takes as long again). Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = "--window-samples", defaultValue = "5000", paramLabel = "N",
            description = "Samples per window in the symbolizing replay. Default: ${DEFAULT-VALUE}.")
    int windowSamples;

    @Override
    public Integer call() throws Exception {
        if ((pids == null) == (unwindTable == null)) {
            throw new UsageProblem("bench needs exactly one of --pid and --unwind-table");
        }
        if (unwindTable != null) {
            if (repeat < 0 || repeat > 10_000) {
                throw new UsageProblem("--repeat must be between 0 and 10000, not " + repeat);
            }
            UnwindTableBenchmark.run(unwindTable, repeat).print(System.out);
            return 0;
        }
        Preflight.requireProfiling();
        IngestBenchmark.Result r = new IngestBenchmark(new LinkedHashSet<>(pids), hz, duration, duration, windowSamples)
                .run();
        r.print(System.out);
        return 0;
    }
}
