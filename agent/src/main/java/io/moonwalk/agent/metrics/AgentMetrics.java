package io.moonwalk.agent.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.moonwalk.agent.bpf.RecordLayout;
import io.moonwalk.agent.daemon.Agent;
import io.moonwalk.agent.daemon.MeasuredSender;
import io.moonwalk.agent.export.otlp.OtlpExporter;
import io.moonwalk.agent.profile.Frame;
import io.moonwalk.agent.profile.FrameKind;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.ProfileStore;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The agent's Micrometer meters, all named {@code moonwalk_*} (the README lists each with its
 * type, labels and meaning). Most read counters the components keep anyway, at scrape time; only
 * the per-window ones (unwind errors, window sizes) are recorded as windows pass.
 */
public final class AgentMetrics {
    /** Error frames are named {@code [unwind error: REASON]} by the symbolizer. */
    private static final String UNWIND_ERROR_PREFIX = "[unwind error: ";
    /** Bounds the reason label's values: names beyond this many distinct reasons count as "other". */
    static final int MAX_REASONS = 32;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> unwindErrors = new ConcurrentHashMap<>();
    private final Counter windowSamples;
    private final DistributionSummary windowEntries;
    private final Timer windowDuration;
    private final Timer symbolizeDuration;

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
        return registry.scrape();
    }

    /** Sampling, filtering, symbolization and window meters of {@code agent}. */
    public void bindAgent(Agent agent) {
        MeterRegistry r = registry;
        gauge(r, "moonwalk.sampler.attached", "1 while the BPF programs are attached", agent,
                a -> a.attached() ? 1 : 0);
        counter(r, "moonwalk.kernel.samples", "perf samples the BPF program handled (all CPUs)", agent,
                a -> a.kernelStat(RecordLayout.STAT_SAMPLES));
        FunctionCounter.builder("moonwalk.kernel.samples.skipped", agent, a -> a.kernelStat(RecordLayout.STAT_SKIPPED_IDLE))
                .tag("reason", "idle").description("samples the BPF program skipped on purpose").register(r);
        FunctionCounter.builder("moonwalk.kernel.samples.skipped", agent, a -> a.kernelStat(RecordLayout.STAT_SKIPPED_FILTER))
                .tag("reason", "pid_filter").description("samples the BPF program skipped on purpose").register(r);
        FunctionCounter.builder("moonwalk.samples.lost", agent, a -> a.kernelStat(RecordLayout.STAT_RINGBUF_FULL))
                .tag("where", "kernel_ring_buffer_full")
                .description("records lost in the kernel because the ring buffer was full").register(r);
        FunctionCounter.builder("moonwalk.kernel.stack.errors", agent, a -> a.kernelStat(RecordLayout.STAT_KERNEL_STACK_ERR))
                .tag("stack", "kernel").description("bpf_get_stack failures in the BPF program").register(r);
        FunctionCounter.builder("moonwalk.kernel.stack.errors", agent, a -> a.kernelStat(RecordLayout.STAT_USER_STACK_ERR))
                .tag("stack", "user").description("bpf_get_stack failures in the BPF program").register(r);
        counter(r, "moonwalk.kernel.process.exits", "process exit events the BPF program sent", agent,
                a -> a.kernelStat(RecordLayout.STAT_EXITS));
        counter(r, "moonwalk.samples", "samples accepted into windows", agent, Agent::samples);
        counter(r, "moonwalk.samples.filtered", "samples of processes the --exe/--container/--cgroup filters rejected",
                agent, Agent::filteredSamples);
        FunctionCounter.builder("moonwalk.samples.dropped", agent, Agent::tableDrops).tag("reason", "window_table_full")
                .description("samples dropped in the agent").register(r);
        FunctionCounter.builder("moonwalk.samples.dropped", agent, a -> a.worker().droppedSamples())
                .tag("reason", "window_queue_full").description("samples dropped in the agent").register(r);
        FunctionCounter.builder("moonwalk.samples.dropped", agent, Agent::malformedRecords).tag("reason", "malformed")
                .description("samples dropped in the agent").register(r);
        gauge(r, "moonwalk.processes.tracked", "processes the agent holds identity and maps for", agent,
                Agent::processesTracked);
        counter(r, "moonwalk.processes.evicted", "processes evicted from the full process table", agent,
                Agent::processEvictions);
        counter(r, "moonwalk.symbolizer.file.failures", "binaries whose symbols could not be loaded", agent,
                a -> a.nativeSymbolizer().loadFailures());
        counter(r, "moonwalk.symbolizer.cache.hits", "symbol-table cache hits", agent,
                a -> a.nativeSymbolizer().cacheHits());
        counter(r, "moonwalk.symbolizer.cache.misses", "symbol-table cache misses (a file was loaded)", agent,
                a -> a.nativeSymbolizer().cacheMisses());
        gauge(r, "moonwalk.symbolizer.cache.entries", "files in the symbol-table cache", agent,
                a -> a.nativeSymbolizer().cacheEntries());
        gauge(r, "moonwalk.symbolizer.cache.limit", "capacity of the symbol-table cache", agent,
                a -> a.nativeSymbolizer().maxCacheEntries());
        FunctionCounter.builder("moonwalk.windows", agent, a -> a.worker().deliveredWindows()).tag("outcome", "delivered")
                .description("windows closed, by outcome").register(r);
        FunctionCounter.builder("moonwalk.windows", agent, a -> a.worker().droppedWindows()).tag("outcome", "dropped")
                .description("windows closed, by outcome").register(r);
        counter(r, "moonwalk.sink.failures", "windows a sink (otlp, store) could not take", agent,
                a -> a.worker().sinkFailures());
        agent.windowListener((durationNanos, symbolizeNanos) -> {
            windowDuration.record(durationNanos, TimeUnit.NANOSECONDS);
            symbolizeDuration.record(symbolizeNanos, TimeUnit.NANOSECONDS);
        });
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

    /** Local store meters. */
    public void bindStore(ProfileStore store) {
        MeterRegistry r = registry;
        gauge(r, "moonwalk.store.bytes", "bytes of stored window files", store, ProfileStore::totalBytes);
        gauge(r, "moonwalk.store.limit.bytes", "size bound of the store", store, ProfileStore::maxBytes);
        gauge(r, "moonwalk.store.files", "stored window files (pprof + folded)", store, ProfileStore::files);
        gauge(r, "moonwalk.store.windows", "stored windows", store, ProfileStore::windowCount);
        counter(r, "moonwalk.store.evicted.windows", "windows deleted by the size or age bound", store,
                ProfileStore::evictedWindows);
        counter(r, "moonwalk.store.write.failures", "windows that could not be written", store,
                ProfileStore::writeFailures);
    }

    /** Per-window meters; called on the window thread for every window before the sinks. */
    public void recordWindow(Profile p) {
        windowSamples.increment(p.totalSamples());
        windowEntries.record(p.entries().size());
        Map<String, Long> reasons = new HashMap<>();
        for (Profile.Entry e : p.entries()) {
            for (Frame f : e.frames()) {
                if (f.kind() == FrameKind.ERROR) {
                    reasons.merge(reasonOf(f.name()), e.count(), Long::sum);
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
        Gauge.builder(name, obj, f).description(help).strongReference(true).register(r);
    }
}
