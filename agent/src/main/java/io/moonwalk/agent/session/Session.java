package io.moonwalk.agent.session;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Stage;
import io.moonwalk.agent.bpf.BpfSampler;
import io.moonwalk.agent.bpf.RecordHandler;
import io.moonwalk.agent.collect.ProcessFilter;
import io.moonwalk.agent.collect.SampleCollector;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.interpreter.Interpreter;
import io.moonwalk.interpreter.InterpreterContext;
import io.moonwalk.interpreter.InterpreterPlugin;
import io.moonwalk.interpreter.InterpreterStats;
import io.moonwalk.interpreter.MappingHooks;
import io.moonwalk.process.ProcessMemory;
import io.moonwalk.unwinder.cfi.RuleDictionary;
import io.moonwalk.unwinder.cfi.UnwindTableCache;
import io.moonwalk.unwinder.sync.FailureLog;
import io.moonwalk.unwinder.sync.MapSyncWorker;
import io.moonwalk.unwinder.sync.ProcessMapSync;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One profiling session, the same for {@code record}, {@code agent} and {@code bench}: the loaded sampler, the
 * interpreter plugins, the map sync that keeps the unwinder's maps in step with the processes, and the sample
 * collector, all built here, in this order, by {@link #open}. Data runs one way: kernel → ring buffer →
 * {@link #drain()} (filter, per-window aggregation) → {@link #endWindow} (naming) → a {@link Profile} for the
 * caller's outputs.
 *
 * <p>Threads: one thread (the caller's loop, "the drain thread") calls {@link #drain} and {@link #detach}; the
 * window end ({@link #endWindow}) may run on another thread (the agent's window namer). The three exclude each
 * other on this object's lock: the collector's tables, its process registry and the plugins' drain-side state are
 * not shared concurrently. The map sync and the plugins run threads of their own. Every other thread reads only
 * {@link #stats()}, an immutable snapshot published after each drain and window.
 */
public final class Session implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Session.class.getName());
    /** Time the whole-host pre-sync may take before attaching; processes left over are synced lazily. */
    static final long PRESYNC_BUDGET_NANOS = 3_000_000_000L;
    /** The component figures (tables, maps, plugins) are gathered at most this often. */
    static final long SLOW_STATS_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final BpfSampler sampler;
    private final List<Interpreter> interpreters;
    private final UnwindTableCache tables;
    private final MapSyncWorker mapSync;
    private final SampleCollector collector;
    private final ProcessFilter filter;
    private volatile SessionStats stats = SessionStats.NONE;
    private boolean attached;
    private boolean detached;
    private long windows;
    private long lastDrainNanos;
    private long slowStatsNanos;
    private List<Long> kernel = List.of();
    private UnwindTableStats tableStats = UnwindTableStats.NONE;
    private SymbolizerStats symbolizerStats = SymbolizerStats.NONE;
    private List<MapFill> mapFill = List.of();
    private List<InterpreterStats> interpreterStats = List.of();

    private Session(BpfSampler sampler, List<Interpreter> interpreters, UnwindTableCache tables, MapSyncWorker mapSync,
            SampleCollector collector, ProcessFilter filter) {
        this.sampler = sampler;
        this.interpreters = interpreters;
        this.tables = tables;
        this.mapSync = mapSync;
        this.collector = collector;
        this.filter = filter;
    }

    /**
     * Loads the BPF object, starts the interpreter plugins, syncs the target processes (or, for the whole host,
     * the processes already running, within {@link #PRESYNC_BUDGET_NANOS}), then attaches: the first samples of
     * those processes are complete. On failure everything already started is stopped again.
     */
    public static Session open(SessionOptions options) {
        BpfSampler sampler = BpfSampler.load(options.sampler(), Map.of());
        List<Interpreter> interpreters = new ArrayList<>();
        MapSyncWorker worker = null;
        try {
            FailureLog failures = new FailureLog();
            InterpreterContext context = new InterpreterContext(sampler.maps(), ProcessMemory::new, failures);
            for (InterpreterPlugin plugin : options.plugins()) {
                interpreters.add(plugin.start(context));
            }
            UnwindTableCache tables = new UnwindTableCache(new RuleDictionary());
            ProcessMapSync sync = new ProcessMapSync(sampler.maps(), tables, failures, Path.of("/proc"),
                    MappingHooks.of(interpreters));
            for (int pid : options.sampler().pids()) {
                presync(sync, pid);
            }
            if (options.sampler().pids().isEmpty()) {
                presyncRunning(sync);
            }
            worker = new MapSyncWorker(sync);
            SampleCollector collector = new SampleCollector(options.sampler().pids(), options.sampler().hz(),
                    interpreters, worker);
            ProcessFilter filter = new ProcessFilter(options.selector(), collector, Path.of("/proc"));
            Session s = new Session(sampler, List.copyOf(interpreters), tables, worker, collector, filter);
            sampler.attach();
            s.attached = true;
            s.publish(true);
            return s;
        } catch (RuntimeException | Error e) {
            closeAll(e, interpreters, worker, sampler);
            throw e;
        }
    }

    private static void closeAll(Throwable failure, List<Interpreter> interpreters, MapSyncWorker worker,
            BpfSampler sampler) {
        List<AutoCloseable> parts = new ArrayList<>(interpreters);
        if (worker != null) {
            parts.add(worker);
        }
        parts.add(sampler);
        for (AutoCloseable c : parts) {
            try {
                c.close();
            } catch (Exception suppressed) {
                failure.addSuppressed(suppressed);
            }
        }
    }

    /**
     * Whole host: installs the tables of the processes already running before the perf events attach, so that
     * their first samples are complete instead of frame-pointer-only ("process not synced"); processes started
     * later, or left when the budget runs out, are synced on their first sample.
     */
    private static void presyncRunning(ProcessMapSync sync) {
        long deadline = System.nanoTime() + PRESYNC_BUDGET_NANOS;
        long self = ProcessHandle.current().pid();
        int[] pids;
        try (Stream<Path> dirs = Files.list(Path.of("/proc"))) {
            pids = dirs.map(d -> d.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .mapToInt(Integer::parseInt).filter(pid -> pid != self).sorted().toArray();
        } catch (IOException | RuntimeException e) {
            return;
        }
        for (int pid : pids) {
            if (System.nanoTime() > deadline) {
                return;
            }
            presync(sync, pid);
        }
    }

    /** One process's sync before attaching; a failure is counted and the process is left to the lazy sync. */
    private static void presync(ProcessMapSync sync, int pid) {
        try {
            Faults.inject(Stage.PRESYNC, pid);
            sync.sync(pid);
        } catch (RuntimeException | Error e) {
            Faults.contained(Stage.PRESYNC, "syncing the maps of pid " + pid + " before attaching", e);
        }
    }

    /** Drains the ring buffer through the process filter into the collector, then publishes the stats. */
    public synchronized int drain() {
        int n = sampler.drain(filter);
        lastDrainNanos = System.nanoTime();
        publish(false);
        return n;
    }

    /** Drains the ring buffer into another handler (bench: capturing records to replay them). */
    public synchronized int drain(RecordHandler handler) {
        int n = sampler.drain(handler);
        lastDrainNanos = System.nanoTime();
        publish(false);
        return n;
    }

    /** Closes the current window: names its stacks (see {@link SampleCollector#endWindow}), publishes the stats. */
    public synchronized Profile endWindow(long startEpochNanos, long durationNanos) {
        Profile p = collector.endWindow(startEpochNanos, durationNanos);
        windows++;
        publish(true);
        return p;
    }

    /**
     * The off-CPU profile named by the last {@link #endWindow} (blocked nanoseconds per stack), or null when the
     * session records none (no {@code --off-cpu}, or no wait long enough yet).
     */
    public synchronized Profile lastOffCpuProfile() {
        return collector.lastOffCpuProfile();
    }

    /**
     * The mmap event profile named by the last {@link #endWindow} (mmap/munmap/mprotect calls of LuaJIT processes per
     * stack), or null when the session records none.
     */
    public synchronized Profile lastMmapProfile() {
        return collector.lastMmapProfile();
    }

    /** Calls of each LuaJIT process counted by the mmap event probe: pid -> {mmap, munmap, mprotect, not walked}. */
    public synchronized Map<Integer, long[]> mmapCounts() {
        return detached ? Map.of() : sampler.mmapCounts();
    }

    /** Drops the current window after its naming failed (see {@link SampleCollector#abandonWindow}). */
    public synchronized void abandonWindow() {
        collector.abandonWindow();
        windows++;
        publish(true);
    }

    /** True when processes were targeted and every one of them has exited. */
    public synchronized boolean targetsGone() {
        return collector.targetsGone();
    }

    /**
     * Stops sampling: the final figures are read, then the plugins' and the map sync's threads stop and the BPF
     * programs and maps are released. The collector keeps the current window, which {@link #endWindow} can still
     * name. Idempotent; drain thread.
     */
    public synchronized void detach() {
        if (detached) {
            return;
        }
        publish(true);
        detached = true;
        attached = false;
        try {
            for (Interpreter in : interpreters) {
                in.close();
            }
            mapSync.close();
        } finally {
            sampler.close();
            publish(false);
        }
    }

    /**
     * From another thread (a shutdown hook): releases the BPF programs at once unless a drain is in progress (the
     * loop then detaches when it returns).
     */
    public void detachNow() {
        try {
            sampler.close();
        } catch (IllegalStateException e) {
            // inside a drain: the loop detaches when the drain returns
        }
    }

    /** The latest published snapshot. Any thread. */
    public SessionStats stats() {
        return stats;
    }

    /** The sampler (bench: the sample program's run-time counters). */
    public BpfSampler sampler() {
        return sampler;
    }

    /** The collector (bench: replaying captured records through the same aggregation and naming). */
    public SampleCollector collector() {
        return collector;
    }

    @Override
    public void close() {
        detach();
    }

    /** Builds and publishes a snapshot; {@code full}: also the component figures, else at most once a second. */
    private void publish(boolean full) {
        long now = System.nanoTime();
        if (full || now - slowStatsNanos >= SLOW_STATS_NANOS) {
            slowStatsNanos = now;
            if (!detached) {
                try {
                    kernel = SessionStats.kernelList(sampler.stats());
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "reading the BPF stats map failed: " + e.getMessage());
                }
            }
            long[] k = toArray(kernel);
            tableStats = UnwindTableStats.of(tables);
            symbolizerStats = SymbolizerStats.of(collector.nativeSymbolizer());
            List<InterpreterStats> in = new ArrayList<>(interpreters.size());
            List<MapFill> fill = new ArrayList<>(mapSync.fill());
            for (Interpreter i : interpreters) {
                InterpreterStats st = i.stats(k);
                in.add(st);
                fill.addAll(st.mapFill());
            }
            interpreterStats = in;
            mapFill = fill;
        }
        stats = new SessionStats(attached, lastDrainNanos, collector.samples(), collector.droppedSamples(),
                filter.filteredSamples(), sampler.malformedRecords(), collector.processes().size(),
                collector.processes().evictions(), windows, collector.unknownNativeFrames(),
                collector.unknownKernelFrames(), kernel, tableStats, symbolizerStats, mapFill, interpreterStats);
    }

    private static long[] toArray(List<Long> l) {
        long[] a = new long[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }
}
