package io.moonwalk.agent.metrics;

import io.moonwalk.interpreter.InterpreterStats;

import java.util.ArrayList;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Stage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.agent.daemon.Agent;
import io.moonwalk.agent.daemon.MeasuredSender;
import io.moonwalk.agent.export.otlp.OtlpExporter;
import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.ProfileStore;
import io.moonwalk.agent.store.ProfileStores;
import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.bpf.maps.MapFill;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The agent's Micrometer meters, all named {@code moonwalk_*} (the README lists each with its
 * type, labels and meaning). The session's meters read its latest published {@code SessionStats} snapshot at
 * scrape time; the interpreter plugins' meters are registered from their snapshots ({@link InterpreterMeters});
 * only the per-window ones (unwind errors, window sizes) are recorded as windows pass.
 */
public final class AgentMetrics {
    /** Error frames are named {@code [unwind error: REASON]} by the symbolizer. */
    private static final String UNWIND_ERROR_PREFIX = "[unwind error: ";
    /** Bounds the reason label's values: names beyond this many distinct reasons count as "other". */
    static final int MAX_REASONS = 32;

    /**
     * The native unwinder's maps, registered at bind time so their meters exist before the first sync (the
     * interpreter plugins' maps appear with their first snapshot).
     */
    static final List<String> KNOWN_MAPS = List.of(BpfMaps.PID_MAPS, BpfMaps.UNWIND_FILES, BpfMaps.UNWIND_ENTRIES,
            BpfMaps.UNWIND_RULES);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Set<String> boundMaps = ConcurrentHashMap.newKeySet();
    private volatile Agent agent;
    private final Map<String, Counter> unwindErrors = new ConcurrentHashMap<>();
    private final Counter windowSamples;
    private final DistributionSummary windowEntries;
    private final Timer windowDuration;
    private final Timer symbolizeDuration;
    private final InterpreterMeters interpreterMeters = new InterpreterMeters(registry);

    public AgentMetrics() {
        windowSamples = Counter.builder("moonwalk.window.samples").description("samples in delivered windows")
                .register(registry);
        windowEntries = DistributionSummary.builder("moonwalk.window.stacks")
                .description("distinct (process, thread, stack, labels) entries per window").register(registry);
        windowDuration = Timer.builder("moonwalk.window.duration").description("length of each closed window")
                .register(registry);
        symbolizeDuration = Timer.builder("moonwalk.window.symbolize.duration")
                .description("time to name the frames of a window at its end").register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Prometheus text exposition of every meter. */
    public String scrape() {
        bindNewMaps();
        refreshInterpreters();
        return registry.scrape();
    }

    /** Sampling, filtering, symbolization and window meters of {@code agent}, read from its stats snapshots. */
    public void bindAgent(Agent agent) {
        MeterRegistry r = registry;
        this.agent = agent;
        gauge(r, "moonwalk.sampler.attached", "1 while the BPF programs are attached", agent,
                a -> a.stats().attached() ? 1 : 0);
        counter(r, "moonwalk.kernel.samples", "perf samples the BPF program handled (all CPUs)", agent,
                a -> a.stats().kernelStat(RecordLayout.STAT_SAMPLES));
        FunctionCounter.builder("moonwalk.kernel.samples.skipped", agent,
                        a -> a.stats().kernelStat(RecordLayout.STAT_SKIPPED_IDLE))
                .tag("reason", "idle").description("samples the BPF program skipped on purpose").register(r);
        FunctionCounter.builder("moonwalk.kernel.samples.skipped", agent,
                        a -> a.stats().kernelStat(RecordLayout.STAT_SKIPPED_FILTER))
                .tag("reason", "pid_filter").description("samples the BPF program skipped on purpose").register(r);
        FunctionCounter.builder("moonwalk.samples.lost", agent, a -> a.stats().kernelStat(RecordLayout.STAT_RINGBUF_FULL))
                .tag("where", "kernel_ring_buffer_full")
                .description("records lost in the kernel because the ring buffer was full").register(r);
        FunctionCounter.builder("moonwalk.kernel.stack.errors", agent,
                        a -> a.stats().kernelStat(RecordLayout.STAT_KERNEL_STACK_ERR))
                .tag("stack", "kernel").description("bpf_get_stack failures in the BPF program").register(r);
        FunctionCounter.builder("moonwalk.kernel.stack.errors", agent,
                        a -> a.stats().kernelStat(RecordLayout.STAT_USER_STACK_ERR))
                .tag("stack", "user").description("bpf_get_stack failures in the BPF program").register(r);
        counter(r, "moonwalk.kernel.process.exits", "process exit events the BPF program sent", agent,
                a -> a.stats().kernelStat(RecordLayout.STAT_EXITS));
        counter(r, "moonwalk.samples", "samples accepted into windows", agent, a -> a.stats().samples());
        counter(r, "moonwalk.samples.filtered", "samples of processes the --exe/--container/--cgroup filters rejected",
                agent, a -> a.stats().filteredSamples());
        FunctionCounter.builder("moonwalk.samples.dropped", agent, a -> a.stats().windowTableDrops())
                .tag("reason", "window_table_full").description("samples dropped in the agent").register(r);
        FunctionCounter.builder("moonwalk.samples.dropped", agent, a -> a.worker().droppedSamples())
                .tag("reason", "window_queue_full").description("samples dropped in the agent").register(r);
        FunctionCounter.builder("moonwalk.samples.dropped", agent, a -> a.stats().malformedRecords())
                .tag("reason", "malformed").description("samples dropped in the agent").register(r);
        gauge(r, "moonwalk.processes.tracked", "processes the agent holds identity and maps for", agent,
                a -> a.stats().processesTracked());
        counter(r, "moonwalk.processes.evicted", "processes evicted from the full process table", agent,
                a -> a.stats().processEvictions());
        counter(r, "moonwalk.symbolizer.file.failures", "binaries whose symbols could not be loaded", agent,
                a -> a.stats().symbolizer().loadFailures());
        counter(r, "moonwalk.symbolizer.cache.hits", "symbol-table cache hits", agent,
                a -> a.stats().symbolizer().cacheHits());
        counter(r, "moonwalk.symbolizer.cache.misses", "symbol-table cache misses (a file was loaded)", agent,
                a -> a.stats().symbolizer().cacheMisses());
        gauge(r, "moonwalk.symbolizer.cache.entries", "files in the symbol-table cache", agent,
                a -> a.stats().symbolizer().cacheEntries());
        gauge(r, "moonwalk.symbolizer.cache.limit", "capacity of the symbol-table cache", agent,
                a -> a.stats().symbolizer().maxCacheEntries());
        FunctionCounter.builder("moonwalk.windows", agent, a -> a.worker().deliveredWindows()).tag("outcome", "delivered")
                .description("windows closed, by outcome").register(r);
        FunctionCounter.builder("moonwalk.windows", agent, a -> a.worker().droppedWindows()).tag("outcome", "dropped")
                .description("windows closed, by outcome").register(r);
        counter(r, "moonwalk.sink.failures", "windows a sink (otlp, store) could not take", agent,
                a -> a.worker().sinkFailures());
        for (Stage stage : Stage.values()) {
            FunctionCounter.builder("moonwalk.contained.failures", stage, Faults::count).tag("stage", stage.label())
                    .description("faults contained while handling one process, record, window or push, by stage")
                    .register(r);
        }
        bindUnwinder(agent);
        agent.windowListener((durationNanos, symbolizeNanos) -> {
            refreshInterpreters(); // the OTLP push reads the registry without a scrape
            windowDuration.record(durationNanos, TimeUnit.NANOSECONDS);
            symbolizeDuration.record(symbolizeNanos, TimeUnit.NANOSECONDS);
        });
    }

    /** Map fill, unwind tables and symbolization failures (the interpreters' meters come with their snapshots). */
    private void bindUnwinder(Agent agent) {
        MeterRegistry r = registry;
        for (String map : KNOWN_MAPS) {
            bindMap(map);
        }
        counter(r, "moonwalk.unwind.tables.builds", "unwind tables built from a file's CFI", agent,
                a -> a.stats().unwindTables().builds());
        counter(r, "moonwalk.unwind.tables.build.failures", "files whose unwind table could not be built", agent,
                a -> a.stats().unwindTables().buildFailures());
        counter(r, "moonwalk.unwind.tables.refusals", "built tables that did not fit the kernel's entry map", agent,
                a -> a.stats().unwindTables().refusals());
        FunctionCounter.builder("moonwalk.unwind.tables.cache.hits", agent, a -> a.stats().unwindTables().hits())
                .tag("kind", "table").description("table requests served without a build").register(r);
        FunctionCounter.builder("moonwalk.unwind.tables.cache.hits", agent,
                        a -> a.stats().unwindTables().negativeHits())
                .tag("kind", "negative").description("table requests served without a build").register(r);
        gauge(r, "moonwalk.unwind.tables.live", "unwind tables installed in the kernel", agent,
                a -> a.stats().unwindTables().liveTables());
        gauge(r, "moonwalk.unwind.tables.live.entries", "unwind entries the installed tables occupy", agent,
                a -> a.stats().unwindTables().liveEntries());
        FunctionCounter.builder("moonwalk.symbolize.unknown.frames", agent, a -> a.stats().unknownNativeFrames())
                .tag("kind", "native").description("frames left without a symbol (distinct addresses per window)")
                .register(r);
        FunctionCounter.builder("moonwalk.symbolize.unknown.frames", agent, a -> a.stats().unknownKernelFrames())
                .tag("kind", "kernel").description("frames left without a symbol (distinct addresses per window)")
                .register(r);
    }

    /** Brings the interpreter plugins' meters up to date (new series registered, gone series removed). */
    private void refreshInterpreters() {
        Agent a = agent;
        if (a != null) {
            List<InterpreterStats> snapshots = new ArrayList<>(a.stats().interpreters());
            snapshots.add(mmapCalls(a.mmapCounts()));
            interpreterMeters.update(snapshots);
        }
    }

    /**
     * The mmap event probe's per-process counts ({@code --mmap-events}) as series of their own, registered and retired
     * like the plugins' (a process that exits leaves the kernel's table and so its series).
     */
    static InterpreterStats mmapCalls(Map<Integer, long[]> counts) {
        List<InterpreterStats.Measurement> values = new ArrayList<>();
        String[] calls = {"mmap", "munmap", "mprotect"};
        counts.forEach((pid, c) -> {
            for (int i = 0; i < calls.length; i++) {
                values.add(InterpreterStats.Measurement.counter("moonwalk.luajit.mmap.calls",
                        "mmap, munmap and mprotect calls of a LuaJIT process (--mmap-events)",
                        Map.of("pid", Integer.toString(pid), "call", calls[i]), c[i]));
            }
        });
        return new InterpreterStats("mmap-events", values, List.of(), List.of());
    }

    /** Registers the fill meters of a map the agent reports that was not known at bind time. */
    private void bindNewMaps() {
        Agent a = agent;
        if (a == null) {
            return;
        }
        for (MapFill f : a.stats().mapFill()) {
            if (!boundMaps.contains(f.map())) {
                bindMap(f.map());
            }
        }
    }

    private void bindMap(String map) {
        if (!boundMaps.add(map)) {
            return;
        }
        Agent a = agent;
        Gauge.builder("moonwalk.bpf.map.entries", a, x -> fill(x, map, MapFill::used)).tag("map", map)
                .description("entries the agent installed in a kernel map").strongReference(true).register(registry);
        Gauge.builder("moonwalk.bpf.map.capacity", a, x -> fill(x, map, MapFill::capacity)).tag("map", map)
                .description("max_entries of a kernel map").strongReference(true).register(registry);
        FunctionCounter.builder("moonwalk.bpf.map.drops", a, x -> fill(x, map, MapFill::drops)).tag("map", map)
                .description("writes a full kernel map (or its entry allocator) refused").register(registry);
    }

    private static double fill(Agent a, String map, ToDoubleFunction<MapFill> f) {
        for (MapFill m : a.stats().mapFill()) {
            if (m.map().equals(map)) {
                return f.applyAsDouble(m);
            }
        }
        return 0;
    }

    /** Export meters of the OTLP exporter and its sender. */
    public void bindExporter(OtlpExporter exporter, MeasuredSender sender) {
        MeterRegistry r = registry;
        FunctionCounter.builder("moonwalk.export.requests", exporter, OtlpExporter::sentRequests).tag("result", "sent")
                .description("OTLP export requests by final result").register(r);
        FunctionCounter.builder("moonwalk.export.requests", exporter, OtlpExporter::failedRequests).tag("result", "failed")
                .description("OTLP export requests by final result").register(r);
        FunctionCounter.builder("moonwalk.export.requests", exporter, OtlpExporter::droppedRequests).tag("result", "dropped")
                .description("OTLP export requests by final result").register(r);
        counter(r, "moonwalk.export.retries", "OTLP export retry attempts", exporter, OtlpExporter::retries);
        counter(r, "moonwalk.export.rejected.profiles", "profiles the receiver rejected in partial_success", exporter,
                OtlpExporter::rejectedProfiles);
        gauge(r, "moonwalk.export.queue.bytes", "serialized bytes waiting to be exported", exporter,
                OtlpExporter::queueBytes);
        gauge(r, "moonwalk.export.queue.requests", "requests waiting to be exported", exporter,
                OtlpExporter::queuedRequests);
        gauge(r, "moonwalk.export.queue.limit.bytes", "bound of the export queue", exporter,
                OtlpExporter::maxQueueBytes);
        Timer ok = Timer.builder("moonwalk.export.duration").tag("outcome", "success")
                .description("duration of one OTLP export attempt").register(r);
        Timer fail = Timer.builder("moonwalk.export.duration").tag("outcome", "failure")
                .description("duration of one OTLP export attempt").register(r);
        sender.listener((nanos, success) -> (success ? ok : fail).record(nanos, TimeUnit.NANOSECONDS));
    }

    /**
     * Local store meters, one series per store with the label {@code profile} ({@code cpu}, {@code offcpu},
     * {@code mmap}): each kind has its own bound, and their sum is the directory's.
     */
    public void bindStores(ProfileStores stores) {
        MeterRegistry r = registry;
        for (ProfileStore store : stores.all()) {
            Tags t = Tags.of("profile", store.kind().id());
            gauge(r, "moonwalk.store.bytes", "bytes of stored window files", t, store, ProfileStore::totalBytes);
            gauge(r, "moonwalk.store.limit.bytes", "size bound of the store", t, store, ProfileStore::maxBytes);
            gauge(r, "moonwalk.store.files", "stored window files (pprof + folded)", t, store, ProfileStore::files);
            gauge(r, "moonwalk.store.windows", "stored windows", t, store, ProfileStore::windowCount);
            FunctionCounter.builder("moonwalk.store.evicted.windows", store, ProfileStore::evictedWindows).tags(t)
                    .description("windows deleted by the size or age bound").register(r);
            FunctionCounter.builder("moonwalk.store.write.failures", store, ProfileStore::writeFailures).tags(t)
                    .description("windows that could not be written").register(r);
        }
    }

    /** Per-window meters; called on the window thread for every window before the sinks. */
    public void recordWindow(Profile p) {
        windowSamples.increment(p.totalSamples());
        windowEntries.record(p.entries().size());
        Map<String, Long> reasons = new HashMap<>();
        for (Profile.Entry e : p.entries()) {
            for (Frame f : e.frames()) {
                if (f.kind() == FrameKind.ERROR) {
                    reasons.merge(reasonOf(f.function()), e.count(), Long::sum);
                }
            }
        }
        reasons.forEach((reason, n) -> unwindErrorCounter(reason).increment(n));
    }

    static String reasonOf(String errorFrame) {
        if (errorFrame.startsWith(UNWIND_ERROR_PREFIX) && errorFrame.endsWith("]")) {
            return errorFrame.substring(UNWIND_ERROR_PREFIX.length(), errorFrame.length() - 1).replace(' ', '_');
        }
        return "other";
    }

    private Counter unwindErrorCounter(String reason) {
        String key = unwindErrors.size() >= MAX_REASONS && !unwindErrors.containsKey(reason) ? "other" : reason;
        return unwindErrors.computeIfAbsent(key, k -> Counter.builder("moonwalk.unwind.errors").tag("reason", k)
                .description("samples whose stack has an unwind error frame, by reason").register(registry));
    }

    private static <T> void counter(MeterRegistry r, String name, String help, T obj, ToDoubleFunction<T> f) {
        FunctionCounter.builder(name, obj, f).description(help).register(r);
    }

    private static <T> void gauge(MeterRegistry r, String name, String help, T obj, ToDoubleFunction<T> f) {
        gauge(r, name, help, Tags.empty(), obj, f);
    }

    private static <T> void gauge(MeterRegistry r, String name, String help, Tags tags, T obj, ToDoubleFunction<T> f) {
        Gauge.builder(name, obj, f).tags(tags).description(help).strongReference(true).register(r);
    }
}
