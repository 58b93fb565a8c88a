package io.moonwalk.agent.cli;

import io.moonwalk.agent.preflight.Preflight;
import io.moonwalk.agent.bench.IngestBenchmark;
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
                + "running on a CPU for the whole benchmark. scripts/bench starts a suitable workload.")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--pid", split = ",", required = true, paramLabel = "PID", description = "Process(es) to sample.")
    List<Integer> pids;

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
        Preflight.requireProfiling();
        IngestBenchmark.Result r = new IngestBenchmark(new LinkedHashSet<>(pids), hz, duration, duration, windowSamples)
                .run();
        r.print(System.out);
        return 0;
    }
}
