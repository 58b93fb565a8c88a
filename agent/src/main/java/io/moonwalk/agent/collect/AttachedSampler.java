package io.moonwalk.agent.collect;

import io.moonwalk.agent.bpf.BpfSampler;
import io.moonwalk.agent.bpf.RecordHandler;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.luajit.sync.LuajitFiles;
import io.moonwalk.luajit.sync.McodeSync;
import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.process.ProcessMemory;
import io.moonwalk.unwinder.sync.FailureLog;
import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.unwinder.sync.MapSyncWorker;
import io.moonwalk.unwinder.sync.ProcessMapSync;
import io.moonwalk.unwinder.cfi.RuleDictionary;
import io.moonwalk.unwinder.cfi.UnwindTableCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The kernel side of a profiling run, shared by {@code record} and {@code agent}: the loaded and
 * attached sampler, plus what keeps its unwinder maps in sync with the processes (unwind tables,
 * LuaJIT binaries), wired into a {@link SampleCollector}. The given target PIDs are synced before
 * the perf events attach, so their stacks are complete from the first sample; other processes are
 * synced when their first sample asks for it.
 */
public final class AttachedSampler implements AutoCloseable {
    private final BpfSampler sampler;
    private final MapSyncWorker worker;
    private final ProcessMapSync sync;
    private final LuajitFiles luajit;
    private final McodeSync jit;
    private final UnwindTableCache tables;
    private final SampleCollector collector;

    private AttachedSampler(BpfSampler sampler, MapSyncWorker worker, ProcessMapSync sync, LuajitFiles luajit,
                            McodeSync jit, UnwindTableCache tables, SampleCollector collector) {
        this.jit = jit;
        this.sampler = sampler;
        this.tables = tables;
        this.worker = worker;
        this.sync = sync;
        this.luajit = luajit;
        this.collector = collector;
    }

    /** Loads, syncs {@code options.pids()}, attaches, and connects the map sync to {@code collector}. */
    public static AttachedSampler open(SamplerOptions options, SampleCollector collector, FailureLog failures) {
        UnwindTableCache tables = new UnwindTableCache(new RuleDictionary());
        ProcessMapSync[] sync = new ProcessMapSync[1];
        LuajitFiles[] luajit = new LuajitFiles[1];
        BpfSampler s = BpfSampler.open(options, Map.of(), loaded -> {
            luajit[0] = new LuajitFiles(loaded.maps(), failures);
            sync[0] = new ProcessMapSync(loaded.maps(), tables, failures, Path.of("/proc"), luajit[0]);
            for (int pid : options.pids()) {
                sync[0].sync(pid);
            }
            if (options.pids().isEmpty()) {
                presyncRunning(sync[0]);
            }
        });
        MapSyncWorker worker;
        try {
            worker = new MapSyncWorker(sync[0]);
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
        McodeSync jit = new McodeSync(s.maps().map(BpfMaps.PID_MAPS), luajit[0], new ProcessMemory(), failures);
        collector.useMapSync(worker);
        collector.useLuajit(luajit[0]);
        collector.useMcodeSync(jit);
        return new AttachedSampler(s, worker, sync[0], luajit[0], jit, tables, collector);
    }

    /** Time the whole-host pre-sync may take before attaching; processes left over are synced lazily. */
    static final long PRESYNC_BUDGET_NANOS = 3_000_000_000L;

    /**
     * Whole host: installs the tables of the processes already running before the perf events attach,
     * so that their first samples are complete instead of frame-pointer-only ("process not synced");
     * processes started later, or left when the budget runs out, are synced on their first sample.
     */
    private static void presyncRunning(ProcessMapSync sync) {
        long deadline = System.nanoTime() + PRESYNC_BUDGET_NANOS;
        long self = ProcessHandle.current().pid();
        int[] pids;
        try (java.util.stream.Stream<Path> dirs = java.nio.file.Files.list(Path.of("/proc"))) {
            pids = dirs.map(d -> d.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .mapToInt(Integer::parseInt).filter(pid -> pid != self).sorted().toArray();
        } catch (java.io.IOException | RuntimeException e) {
            return;
        }
        for (int pid : pids) {
            if (System.nanoTime() > deadline) {
                return;
            }
            sync.sync(pid);
        }
    }

    public BpfSampler sampler() {
        return sampler;
    }

    /** Drains the ring buffer into {@code handler} (the collector, or a filter in front of it). */
    public int drain(RecordHandler handler) {
        return sampler.drain(handler);
    }

    /** The unwind tables shared by every process (build, failure, refusal and cache counters). Thread-safe. */
    public UnwindTableCache unwindTables() {
        return tables;
    }

    /** LuaJIT detection (files examined, detected, refused). Thread-safe. */
    public LuajitFiles luajitFiles() {
        return luajit;
    }

    /** Fill of the unwinder's kernel maps (pid_maps, unwind tables, LuaJIT files). Thread-safe. */
    public List<MapFill> mapFill() {
        List<MapFill> fill = new ArrayList<>(sync.fill());
        fill.add(luajit.fill());
        fill.add(jit.fill());
        return fill;
    }

    /** The LuaJIT mcode-area routing and JIT health of the profiled processes. */
    public McodeSync jit() {
        return jit;
    }

    /** Detaches: no sample is taken after this returns. Idempotent. */
    @Override
    public void close() {
        try {
            collector.useMapSync(null);
            collector.useMcodeSync(null);
            jit.close();
            worker.close();
        } finally {
            sampler.close();
        }
    }
}
