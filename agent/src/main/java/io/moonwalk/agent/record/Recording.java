package io.moonwalk.agent.record;

import io.moonwalk.agent.bpf.BpfSampler;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.collect.AttachedSampler;
import io.moonwalk.agent.collect.SampleCollector;
import io.moonwalk.unwinder.sync.FailureLog;
import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.agent.profile.Profile;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
    private List<io.moonwalk.luajit.jit.JitHealth> jitHealth = List.of();
    private long jitFlushes;
    /** pid -> {pid_maps entries, mcode areas} of its LuaJIT VMs at the end of the recording. */
    private Map<Integer, int[]> jitRoutes = Map.of();
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
        try (AttachedSampler a = AttachedSampler.open(options, collector, failures)) {
            BpfSampler s = a.sampler();
            sampler = s;
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
                a.drain(collector);
            }
            a.drain(collector);
            elapsedNanos = System.nanoTime() - start;
            kernelStats = s.stats();
            mapFill = a.mapFill();
            jitHealth = a.jit().health();
            jitFlushes = a.jit().flushes();
            Map<Integer, int[]> routes = new TreeMap<>();
            for (var h : jitHealth) {
                routes.computeIfAbsent(h.pid(), pid -> new int[] {a.jit().entriesOf(pid), a.jit().areasOf(pid)});
            }
            jitRoutes = routes;
        } finally {
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
        try {
            return collector.endWindow(startEpochNanos, elapsedNanos);
        } finally {
            collector.close();
        }
    }

    /** Lua proto prefetching counters (null when no LuaJIT was in use). */
    public io.moonwalk.agent.symbolize.ProtoPrefetcher protoPrefetcher() {
        return collector.protoPrefetcher();
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

    /** JIT health of every LuaJIT VM seen, at the end of the recording. */
    public List<io.moonwalk.luajit.jit.JitHealth> jitHealth() {
        return jitHealth;
    }

    /** Per LuaJIT process: {@code pid_maps} entries routing its mcode areas, and those areas (all its VMs). */
    public Map<Integer, int[]> jitRoutes() {
        return jitRoutes;
    }

    public long jitFlushes() {
        return jitFlushes;
    }

    public Duration elapsed() {
        return Duration.ofNanos(elapsedNanos);
    }
}
