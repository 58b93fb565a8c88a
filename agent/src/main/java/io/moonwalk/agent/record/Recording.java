package io.moonwalk.agent.record;

import io.moonwalk.agent.bpf.BpfSampler;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.collect.SampleCollector;
import io.moonwalk.agent.maps.FailureLog;
import io.moonwalk.agent.maps.MapFill;
import io.moonwalk.agent.maps.MapSyncWorker;
import io.moonwalk.agent.luajit.LuajitFiles;
import io.moonwalk.agent.maps.ProcessMapSync;
import io.moonwalk.symbolizer.unwind.RuleDictionary;
import io.moonwalk.symbolizer.unwind.UnwindTableCache;
import io.moonwalk.agent.profile.Profile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One bounded recording: attach, drain the ring buffer on a timer into a {@link SampleCollector},
 * detach, then name the frames. The sampler is detached before any output is written.
 */
public final class Recording {
    /** How often the ring buffer is drained: batches, never one wake-up per sample. */
    static final Duration DRAIN_INTERVAL = Duration.ofMillis(200);

    private final SamplerOptions options;
    private final Duration duration;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final SampleCollector collector;
    private long[] kernelStats = new long[0];
    private List<MapFill> mapFill = List.of();
    private final FailureLog failures = new FailureLog();
    private volatile BpfSampler sampler;
    private long startEpochNanos;
    private long elapsedNanos;

    public Recording(SamplerOptions options, Duration duration) {
        this.options = options;
        this.duration = duration;
        this.collector = new SampleCollector(options.pids(), options.hz());
    }

    /** Asks a running recording to stop early (signal handlers call this). */
    public void requestStop() {
        stop.set(true);
    }

    /** Called once the sampler is attached, e.g. to tell the user recording has begun. */
    public interface Listener {
        void attached(BpfSampler sampler);
    }

    /** Samples until the duration elapsed, a stop was requested, or every target process exited. */
    public void run(Listener listener) throws InterruptedException {
        UnwindTableCache tables = new UnwindTableCache(new RuleDictionary());
        ProcessMapSync[] sync = new ProcessMapSync[1];
        LuajitFiles[] luajit = new LuajitFiles[1];
        // the --pid targets are synced before sampling starts, so that even a short recording has complete
        // stacks from its first sample; other processes are synced when their first sample asks for it
        try (BpfSampler s = BpfSampler.open(options, Map.of(), loaded -> {
                    luajit[0] = new LuajitFiles(loaded.maps(), failures);
                    sync[0] = new ProcessMapSync(loaded.maps(), tables, failures, Path.of("/proc"), luajit[0]);
                    for (int pid : options.pids()) {
                        sync[0].sync(pid);
                    }
                });
                MapSyncWorker worker = new MapSyncWorker(sync[0])) {
            sampler = s;
            collector.useMapSync(worker);
            collector.useLuajit(luajit[0]);
            startEpochNanos = System.currentTimeMillis() * 1_000_000L;
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            listener.attached(s);
            while (!stop.get() && !collector.targetsGone()) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                Thread.sleep(Math.max(1, Math.min(DRAIN_INTERVAL.toMillis(), (end - now) / 1_000_000)));
                s.drain(collector);
            }
            s.drain(collector);
            elapsedNanos = System.nanoTime() - start;
            kernelStats = s.stats();
            mapFill = new java.util.ArrayList<>(sync[0].fill());
            mapFill.add(luajit[0].fill());
        } finally {
            collector.useMapSync(null);
            sampler = null;
        }
    }

    /** Closes the sampler if a recording is still attached (shutdown hook safety net). */
    public void detachNow() {
        BpfSampler s = sampler;
        if (s != null) {
            s.close();
        }
    }

    /** Names every frame of the recording. Call after {@link #run}. */
    public Profile profile() {
        return collector.endWindow(startEpochNanos, elapsedNanos);
    }

    /** Lua frame naming counters (null before {@link #profile()}). */
    public io.moonwalk.agent.symbolize.LuaFrameSymbolizer luaFrames() {
        return collector.luaFrames();
    }

    public boolean targetsGone() {
        return collector.targetsGone();
    }

    public long droppedInAgent() {
        return collector.droppedSamples();
    }

    public long[] kernelStats() {
        return kernelStats.clone();
    }

    /** Fill of the native unwinder's maps at the end of the recording. */
    public List<MapFill> mapFill() {
        return mapFill;
    }

    public Duration elapsed() {
        return Duration.ofNanos(elapsedNanos);
    }
}
