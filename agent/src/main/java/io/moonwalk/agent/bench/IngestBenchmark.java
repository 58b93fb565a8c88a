package io.moonwalk.agent.bench;

import io.moonwalk.agent.bpf.ProgramRunTime;
import io.moonwalk.agent.bpf.RecordHandler;
import io.moonwalk.agent.bpf.RunTimeStats;
import io.moonwalk.agent.bpf.SampleRecord;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.collect.SampleCollector;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.session.Session;
import io.moonwalk.agent.session.SessionOptions;
import io.moonwalk.bpf.layout.RecordLayout;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Measures the two costs of a sample, side by side in one run:
 * <ol>
 *   <li>in the kernel: {@code run_time_ns / run_cnt} of the sampler program (BPF run-time stats),
 *       while sampling the given processes;</li>
 *   <li>in the agent: the samples captured in phase 1 are replayed from memory through the same
 *       {@link Session} (its {@link SampleCollector}, interpreter plugins and naming) that {@code record} and
 *       {@code agent} use, in windows: ingest + aggregate alone, and ingest + aggregate + symbolize (a window's
 *       end names its stacks).</li>
 * </ol>
 * The processes must stay alive through both phases so that their frames can be named.
 */
public final class IngestBenchmark {
    private final Set<Integer> pids;
    private final int hz;
    private final Duration sampling;
    private final Duration replay;
    private final int windowSamples;

    public IngestBenchmark(Set<Integer> pids, int hz, Duration sampling, Duration replay, int windowSamples) {
        this.pids = Set.copyOf(pids);
        this.hz = hz;
        this.sampling = sampling;
        this.replay = replay;
        this.windowSamples = windowSamples;
    }

    /** Results of one run. */
    public record Result(int windowSamples, long kernelRuns, double kernelNanosPerRun, long kernelRunTimeNanos,
                         double skipNanosPerRun,
                         int captured, double avgFrameWords, double avgUserFrames, double avgLuaFrames,
                         double ingestSamplesPerSecond, double fullSamplesPerSecond, double symbolizeMillisPerWindow,
                         int stacksPerWindow) {
        public void print(PrintStream out) {
            out.printf("kernel: %d sampler runs, %.0f ns per run (run_time_ns / run_cnt; includes cheap runs that"
                    + " skip other processes)%n", kernelRuns, kernelNanosPerRun);
            out.printf("kernel: %.0f ns per recorded sample (run_time_ns / samples recorded; an upper bound)%n",
                    (double) kernelRunTimeNanos / captured);
            // the other runs hit other tasks (a shared machine) or idle CPUs and stop at the filter
            out.printf("kernel: %.0f ns per recorded sample, the %d runs that recorded nothing subtracted at %.0f ns"
                    + " each (the cost of a skipped run, measured before with every task filtered out)%n",
                    (kernelRunTimeNanos - (kernelRuns - captured) * skipNanosPerRun) / captured,
                    kernelRuns - captured, skipNanosPerRun);
            out.printf("captured %d samples, %.1f frame words per sample on average%n", captured, avgFrameWords);
            out.printf("user frames per sample: %.1f (%.1f of them Lua: interpreted, JIT or C functions)%n",
                    avgUserFrames, avgLuaFrames);
            out.printf("agent ingest + aggregate: %.0f samples/s%n", ingestSamplesPerSecond);
            out.printf("agent ingest + aggregate + symbolize (windows of %d samples, %d distinct stacks, %.2f ms to"
                    + " name a window): %.0f samples/s%n", windowSamples, stacksPerWindow, symbolizeMillisPerWindow,
                    fullSamplesPerSecond);
        }
    }

    public Result run() throws InterruptedException {
        double skipNanosPerRun = skippedRunCost();
        List<byte[]> captured = new ArrayList<>();
        ProgramRunTime before;
        ProgramRunTime after;
        try (RunTimeStats stats = RunTimeStats.enable();
             Session session = Session.open(SessionOptions.of(new SamplerOptions(hz, pids,
                     SamplerOptions.DEFAULT_RING_BUFFER_BYTES, true)))) {
            before = session.sampler().sampleProgramRunTime();
            RecordHandler capture = new RecordHandler() {
                @Override
                public void onSample(SampleRecord r) {
                    captured.add(r.copyBytes());
                }

                @Override
                public void onExit(int pid, long ktimeNanos) {
                }
            };
            long end = System.nanoTime() + sampling.toNanos();
            while (System.nanoTime() < end) {
                Thread.sleep(200);
                session.drain(capture);
            }
            session.drain(capture);
            after = session.sampler().sampleProgramRunTime();
            session.detach();
            return replay(session, captured, before, after, skipNanosPerRun);
        }
    }

    /** ns per run of the sampler when it records nothing: only the agent's own PID passes the filter, and the
     *  sampler skips its own process. */
    private double skippedRunCost() throws InterruptedException {
        try (RunTimeStats stats = RunTimeStats.enable();
             Session session = Session.open(SessionOptions.of(new SamplerOptions(hz,
                     Set.of((int) ProcessHandle.current().pid()), SamplerOptions.DEFAULT_RING_BUFFER_BYTES, true)))) {
            ProgramRunTime before = session.sampler().sampleProgramRunTime();
            Thread.sleep(3000);
            ProgramRunTime after = session.sampler().sampleProgramRunTime();
            session.detach();
            return after.runCount() == before.runCount() ? 0 : after.nanosPerRunSince(before);
        }
    }

    private Result replay(Session session, List<byte[]> captured, ProgramRunTime before, ProgramRunTime after,
                          double skipNanosPerRun) {
        if (captured.isEmpty()) {
            throw new IllegalStateException("no samples were captured: are the processes running on a CPU?");
        }
        MemorySegment[] records = captured.stream().map(MemorySegment::ofArray).toArray(MemorySegment[]::new);
        long words = 0;
        long userFrames = 0;
        long luaFrames = 0;
        SampleRecord view = new SampleRecord();
        for (MemorySegment m : records) {
            view.wrap(m);
            words += view.frameWords();
            // a frame is one word plus its extra words; kernel frames are not the walkers' work
            for (int i = view.kernelFrames(); i < view.frameWords(); i += 1 + SampleRecord.extraWords(view.frameWord(i))) {
                int kind = SampleRecord.kind(view.frameWord(i));
                userFrames++;
                // neither native nor error: an interpreter walker's frame (the core names no interpreter)
                if (kind != RecordLayout.FRAME_NATIVE && kind != RecordLayout.FRAME_ERROR) {
                    luaFrames++;
                }
            }
        }

        // agent phase 1: ingest + aggregate only (windows are closed without naming)
        SampleCollector collector = session.collector();
        long n = 0;
        long t0 = System.nanoTime();
        long replayEnd = t0 + replay.toNanos() / 2;
        while (System.nanoTime() < replayEnd) {
            for (MemorySegment m : records) {
                view.wrap(m);
                collector.onSample(view);
            }
            n += records.length;
        }
        double ingestRate = n / ((System.nanoTime() - t0) / 1e9);

        // agent phase 2: ingest + aggregate + symbolize per window
        long m2 = 0;
        long windows = 0;
        long symbolizeNanos = 0;
        int stacks = 0;
        t0 = System.nanoTime();
        replayEnd = t0 + replay.toNanos() / 2;
        int inWindow = 0;
        while (System.nanoTime() < replayEnd) {
            for (MemorySegment m : records) {
                view.wrap(m);
                collector.onSample(view);
                m2++;
                if (++inWindow == windowSamples) {
                    long s0 = System.nanoTime();
                    Profile p = session.endWindow(0, 0);
                    symbolizeNanos += System.nanoTime() - s0;
                    stacks = p.entries().size();
                    windows++;
                    inWindow = 0;
                }
            }
        }
        double fullRate = m2 / ((System.nanoTime() - t0) / 1e9);
        long runs = after.runCount() - before.runCount();
        return new Result(windowSamples, runs, after.nanosPerRunSince(before),
                after.runTimeNanos() - before.runTimeNanos(), skipNanosPerRun, records.length, (double) words / records.length,
                (double) userFrames / records.length, (double) luaFrames / records.length,
                ingestRate, fullRate, windows == 0 ? 0 : symbolizeNanos / 1e6 / windows, stacks);
    }
}
