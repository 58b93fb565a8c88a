package io.moonwalk.agent.cli;

import io.moonwalk.agent.preflight.Preflight;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.output.OutputFormat;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.record.Recording;
import io.moonwalk.agent.record.RecordSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code moonwalk record}: profile the host or some processes for a while, write files. */
@Command(name = "record", mixinStandardHelpOptions = true,
        description = "Profile the whole host (or the given processes) for a while and write flame graph, "
                + "folded and/or pprof files. Ctrl-C stops early and still writes the outputs.")
public final class RecordCommand implements Callable<Integer> {
    static final int MAX_HZ = 1000;

    @Option(names = "--pid", split = ",", paramLabel = "PID",
            description = "Record only this process (repeatable or comma-separated). Default: the whole host.")
    List<Integer> pids = new ArrayList<>();

    @Option(names = "--hz", paramLabel = "N", defaultValue = "99",
            description = "Samples per second per CPU (1-" + MAX_HZ + "). Default: ${DEFAULT-VALUE}.")
    int hz;

    @Option(names = "--duration", paramLabel = "D", defaultValue = "30s", converter = DurationConverter.class,
            description = "How long to record: 500ms, 30s, 2m, 1h. Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Mixin
    EventProfileOptions events = new EventProfileOptions();

    @Option(names = "--output", split = ",", paramLabel = "FILE",
            description = "Output file (repeatable); the format follows the extension: .html, .folded, .pb.gz. "
                    + "Default: moonwalk-<time>.html")
    List<Path> outputs = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (hz < 1 || hz > MAX_HZ) {
            throw new UsageProblem("--hz " + hz + " is out of range: use 1 to " + MAX_HZ);
        }
        if (outputs.isEmpty()) {
            outputs.add(Path.of("moonwalk-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                    + ".html"));
        }
        List<OutputFormat> formats = new ArrayList<>();
        for (Path out : outputs) {
            formats.add(formatOf(out));
            requireWritableDirectory(out);
        }
        Set<Integer> targets = new LinkedHashSet<>(pids);
        for (int pid : targets) {
            if (pid <= 0 || !Files.isDirectory(Path.of("/proc/" + pid))) {
                throw new UsageProblem("no such process: " + pid);
            }
        }
        events.validate();
        Preflight.requireProfiling();

        SamplerOptions options = new SamplerOptions(hz, targets, SamplerOptions.DEFAULT_RING_BUFFER_BYTES, true,
                events.offCpuMinNanos(), events.mmapIntervalNanos());
        Recording recording = new Recording(options, duration);
        Signal.handle(new Signal("INT"), sig -> recording.requestStop());
        Signal.handle(new Signal("TERM"), sig -> recording.requestStop());
        Thread safetyNet = new Thread(recording::detachNow, "moonwalk-detach");
        Runtime.getRuntime().addShutdownHook(safetyNet);

        Profile profile = recording.run(sampler -> System.err.printf("moonwalk: recording %s at %d Hz for %s%s; Ctrl-C to stop early%n",
                targets.isEmpty() ? "the whole host" : "pid " + targets, hz, format(duration),
                events.startupText()));
        List<Path> written = new ArrayList<>();
        Profile blocked = recording.offCpuProfile();
        Profile mapped = recording.mmapProfile();
        for (int i = 0; i < outputs.size(); i++) {
            Path out = outputs.get(i);
            if (!write(formats.get(i), profile, out, written)
                    || (blocked != null && !write(formats.get(i), blocked, formats.get(i).sibling(out, "offcpu"), written))
                    || (mapped != null && !write(formats.get(i), mapped, formats.get(i).sibling(out, "mmap"), written))) {
                return Main.EXIT_RUNTIME;
            }
        }
        System.err.print(RecordSummary.of(recording, profile, written));
        return 0;
    }

    private static boolean write(OutputFormat format, Profile profile, Path out, List<Path> written) {
        try {
            format.newWriter().writeFile(profile, out);
            written.add(out);
            return true;
        } catch (IOException e) {
            System.err.println("moonwalk: could not write " + out + ": " + e.getMessage());
            return false;
        }
    }

    private static OutputFormat formatOf(Path out) {
        try {
            return OutputFormat.forPath(out);
        } catch (IllegalArgumentException e) {
            throw new UsageProblem(e.getMessage());
        }
    }

    private static void requireWritableDirectory(Path out) {
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new UsageProblem("cannot write " + out + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new UsageProblem("cannot write " + out + ": directory " + dir + " is not writable");
        }
        if (Files.isDirectory(out)) {
            throw new UsageProblem("cannot write " + out + ": it is a directory");
        }
    }

    static String format(Duration d) {
        if (d.toNanos() % 1_000_000 != 0) {
            return d.toNanos() / 1000 + "us";
        }
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
