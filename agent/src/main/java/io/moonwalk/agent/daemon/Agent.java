package io.moonwalk.agent.daemon;

import io.moonwalk.agent.bpf.BpfSampler;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.collect.AttachedSampler;
import io.moonwalk.agent.collect.SampleCollector;
import io.moonwalk.luajit.sync.LuajitFiles;
import io.moonwalk.unwinder.sync.FailureLog;
import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.agent.symbolize.LuaFrameSymbolizer;
import io.moonwalk.agent.symbolize.ProtoPrefetcher;
import io.moonwalk.unwinder.cfi.UnwindTableCache;
import io.moonwalk.luajit.jit.JitHealth;
import java.util.List;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.symbolize.symbols.NativeSymbolizer;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The continuous profiling loop: attach the sampler, drain the ring buffer every
 * {@value #DRAIN_MILLIS} ms, cut a window every interval (with jitter), hand it to the
 * {@link WindowWorker}, until {@link #requestStop()}. On stop the BPF programs are detached first,
 * then the last window is delivered within the shutdown bound.
 *
 * <p>The loop thread owns the sampler and the collector; everything other threads read (metrics,
 * health) is published through atomics after each drain.
 */
public final class Agent {
    private static final System.Logger LOG = System.getLogger(Agent.class.getName());
    static final long DRAIN_MILLIS = 200;
    private static final long STATS_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final AgentOptions options;
    private final SampleCollector collector;
    private final FailureLog failures = new FailureLog();
    private final ProcessFilter filter;
    private final WindowWorker worker;
    private final Semaphore stop = new Semaphore(0);
    private volatile boolean stopping;
    private volatile BpfSampler sampler;

    private final AtomicLong samples = new AtomicLong();
    private final AtomicLong tableDrops = new AtomicLong();
    private final AtomicLong filtered = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong processes = new AtomicLong();
    private final AtomicLong processEvictions = new AtomicLong();
    private final AtomicLong windows = new AtomicLong();
    private final AtomicLongArray kernelStats = new AtomicLongArray(RecordLayout.STAT_MAX);
    private volatile boolean attached;
    private volatile long lastDrainNanos;
    private final AtomicLong unknownNativeFrames = new AtomicLong();
    private final AtomicLong unknownKernelFrames = new AtomicLong();
    /** Set while attached; the map fill is read through it (thread-safe, synchronized with the map sync). */
    private volatile AttachedSampler attachedSampler;
    /** Outlive the sampler: their counters stay readable after detach. Thread-safe objects. */
    private volatile UnwindTableCache unwindTables;
    private volatile LuajitFiles luajitFiles;
    private volatile LuaFrameSymbolizer luaFrames;
    private volatile ProtoPrefetcher protoPrefetcher;
    private final Object fillLock = new Object();
    private List<MapFill> fillSnapshot = List.of(); // guarded by fillLock
    private long fillSnapshotNanos; // guarded by fillLock
    private List<JitHealth> jitSnapshot = List.of(); // guarded by fillLock
    private long jitSnapshotNanos; // guarded by fillLock

    /** Observes each window's closing: its length and how long naming its frames took. */
    public interface WindowListener {
        void windowClosed(long durationNanos, long symbolizeNanos);
    }

    private volatile WindowListener windowListener = (d, s) -> { };

    public Agent(AgentOptions options, WindowWorker worker) {
        this.options = options;
        this.collector = new SampleCollector(options.pids(), options.hz());
        this.filter = new ProcessFilter(options.selector(), collector, Path.of("/proc"));
        this.worker = worker;
    }

    public void windowListener(WindowListener l) {
        this.windowListener = l;
    }

    /** Asks the loop to finish; safe from signal handlers and any thread. */
    public void requestStop() {
        stopping = true;
        stop.release();
    }

    /** Detaches at once if still attached (shutdown-hook safety net when {@link #run} cannot finish). */
    public void detachNow() {
        BpfSampler s = sampler;
        if (s != null) {
            try {
                s.close();
            } catch (IllegalStateException e) {
                // inside a drain: the loop will close it when the drain returns
            }
        }
    }

    /**
     * Runs until {@link #requestStop()}.
     *
     * @param onAttached called once the programs are attached
     */
    public void run(Runnable onAttached) {
        SamplerOptions so = new SamplerOptions(options.hz(), options.pids(), options.ringBufferBytes(), true);
        Profile last;
        try (AttachedSampler attachedSampler = AttachedSampler.open(so, collector, failures)) {
            BpfSampler s = attachedSampler.sampler();
            sampler = s;
            unwindTables = attachedSampler.unwindTables();
            luajitFiles = attachedSampler.luajitFiles();
            luaFrames = collector.luaFrames();
            protoPrefetcher = collector.protoPrefetcher();
            this.attachedSampler = attachedSampler;
            attached = true;
            onAttached.run();
            long windowStartNanos = System.nanoTime();
            long windowStartEpoch = System.currentTimeMillis() * 1_000_000L;
            long windowEnd = windowStartNanos + options.nextWindowNanos(ThreadLocalRandom.current().nextDouble());
            long nextStats = windowStartNanos;
            while (!stopping) {
                long now = System.nanoTime();
                long wait = Math.min(TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS), Math.max(0, windowEnd - now));
                try {
                    if (stop.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
                        break;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                drain(s);
                now = System.nanoTime();
                if (now >= nextStats) {
                    publishKernelStats(s);
                    nextStats = now + STATS_EVERY_NANOS;
                }
                if (now >= windowEnd) {
                    long epochNow = System.currentTimeMillis() * 1_000_000L;
                    closeWindow(windowStartEpoch, now - windowStartNanos);
                    windowStartNanos = now;
                    windowStartEpoch = epochNow;
                    windowEnd = now + options.nextWindowNanos(ThreadLocalRandom.current().nextDouble());
                }
            }
            drain(s);
            publishKernelStats(s);
            long end = System.nanoTime();
            // the programs go before the last window is delivered: nothing is sampled after SIGTERM
            sampler = null;
            attached = false;
            mapFill(0);
            jitHealth(0);
            this.attachedSampler = null;
            attachedSampler.close();
            last = window(windowStartEpoch, end - windowStartNanos);
        } finally {
            sampler = null;
            attached = false;
            this.attachedSampler = null;
            collector.close();
        }
        worker.offer(last);
        worker.finish(options.shutdownTimeout());
    }

    private void drain(BpfSampler s) {
        s.drain(filter);
        lastDrainNanos = System.nanoTime();
        samples.set(collector.samples());
        tableDrops.set(collector.droppedSamples());
        filtered.set(filter.filteredSamples());
        malformed.set(s.malformedRecords());
        processes.set(collector.processes().size());
        processEvictions.set(collector.processes().evictions());
    }

    private void publishKernelStats(BpfSampler s) {
        try {
            long[] st = s.stats();
            for (int i = 0; i < st.length && i < RecordLayout.STAT_MAX; i++) {
                kernelStats.set(i, st[i]);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "reading the BPF stats map failed: " + e.getMessage());
        }
    }

    private void closeWindow(long startEpoch, long durationNanos) {
        worker.offer(window(startEpoch, durationNanos));
    }

    private Profile window(long startEpoch, long durationNanos) {
        long t0 = System.nanoTime();
        Profile p = collector.endWindow(startEpoch, durationNanos);
        unknownNativeFrames.set(collector.unknownNativeFrames());
        unknownKernelFrames.set(collector.unknownKernelFrames());
        windows.incrementAndGet();
        processes.set(collector.processes().size());
        windowListener.windowClosed(durationNanos, System.nanoTime() - t0);
        return p;
    }

    public boolean attached() {
        return attached;
    }

    /** Nanos since the ring buffer was last drained (liveness of the loop). */
    public long nanosSinceDrain() {
        long t = lastDrainNanos;
        return t == 0 ? Long.MAX_VALUE : System.nanoTime() - t;
    }

    public long samples() {
        return samples.get();
    }

    public long tableDrops() {
        return tableDrops.get();
    }

    public long filteredSamples() {
        return filtered.get();
    }

    public long malformedRecords() {
        return malformed.get();
    }

    public long processesTracked() {
        return processes.get();
    }

    public long processEvictions() {
        return processEvictions.get();
    }

    public long windowsClosed() {
        return windows.get();
    }

    public long kernelStat(int index) {
        return kernelStats.get(index);
    }

    /**
     * Fill of the unwinder's kernel maps, at most {@code maxAgeNanos} old (reading it waits for a map sync in
     * progress, so callers off the sampling path refresh it: the metrics scrape). Empty before attach; the
     * last snapshot after detach.
     */
    public List<MapFill> mapFill(long maxAgeNanos) {
        synchronized (fillLock) {
            AttachedSampler a = attachedSampler;
            long now = System.nanoTime();
            if (a != null && (fillSnapshotNanos == 0 || now - fillSnapshotNanos >= maxAgeNanos)) {
                fillSnapshot = List.copyOf(a.mapFill());
                fillSnapshotNanos = now;
            }
            return fillSnapshot;
        }
    }

    /**
     * JIT health of every LuaJIT VM the mcode sync has read, at most {@code maxAgeNanos} old (read off the sampling
     * path, like {@link #mapFill}). VMs and processes that are gone are not in it. Empty before attach; the last
     * snapshot after detach.
     */
    public List<JitHealth> jitHealth(long maxAgeNanos) {
        synchronized (fillLock) {
            AttachedSampler a = attachedSampler;
            long now = System.nanoTime();
            if (a != null && (jitSnapshotNanos == 0 || now - jitSnapshotNanos >= maxAgeNanos)) {
                jitSnapshot = List.copyOf(a.jit().health());
                jitSnapshotNanos = now;
            }
            return jitSnapshot;
        }
    }

    /** Null before attach. Thread-safe. */
    public UnwindTableCache unwindTables() {
        return unwindTables;
    }

    /** Null before attach. Thread-safe. */
    public LuajitFiles luajitFiles() {
        return luajitFiles;
    }

    /** Lua frame naming counters; null before attach. Thread-safe. */
    public LuaFrameSymbolizer luaFrames() {
        return luaFrames;
    }

    /** Lua proto prefetch counters; null before attach. Thread-safe. */
    public ProtoPrefetcher protoPrefetcher() {
        return protoPrefetcher;
    }

    /** Native frames left without a symbol in closed windows (distinct addresses per window). */
    public long unknownNativeFrames() {
        return unknownNativeFrames.get();
    }

    /** Kernel frames outside every kallsyms symbol in closed windows (distinct addresses per window). */
    public long unknownKernelFrames() {
        return unknownKernelFrames.get();
    }

    /** Thread-safe: its counters are synchronized. */
    public NativeSymbolizer nativeSymbolizer() {
        return collector.nativeSymbolizer();
    }

    public WindowWorker worker() {
        return worker;
    }

    public AgentOptions options() {
        return options;
    }

}
