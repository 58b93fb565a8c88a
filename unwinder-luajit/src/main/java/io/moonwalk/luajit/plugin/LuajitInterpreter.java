package io.moonwalk.luajit.plugin;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.interpreter.FrameWords;
import io.moonwalk.interpreter.Interpreter;
import io.moonwalk.interpreter.InterpreterContext;
import io.moonwalk.frame.Frame;
import io.moonwalk.interpreter.InterpreterProcess;
import io.moonwalk.interpreter.InterpreterStats;
import io.moonwalk.interpreter.InterpreterStats.Measurement;
import io.moonwalk.interpreter.NativeNames;
import io.moonwalk.luajit.abort.AbortSite;
import io.moonwalk.luajit.abort.SiteName;
import io.moonwalk.luajit.abort.VmAborts;
import io.moonwalk.luajit.detect.LuajitBinary;
import io.moonwalk.luajit.jit.JitHealth;
import io.moonwalk.luajit.jit.SnapshotFallback;
import io.moonwalk.luajit.naming.LuaFrameSymbolizer;
import io.moonwalk.luajit.naming.ProtoPrefetcher;
import io.moonwalk.luajit.sync.LuajitFiles;
import io.moonwalk.luajit.sync.McodeSync;
import io.moonwalk.luajit.sync.VmLabels;
import io.moonwalk.unwinder.sync.MappingExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * LuaJIT's part of one session: {@link LuajitFiles} (detection and walker values per file, the map-sync hook),
 * {@link McodeSync} (mcode areas routed per VM, JIT health), {@link VmLabels}, and Lua frame naming with its proto
 * prefetcher.
 */
final class LuajitInterpreter implements Interpreter {
    /** (pid, vm) pairs recently reported to the JIT sync: a direct-mapped cache, so a sample costs no lock. */
    private static final int SEEN_VMS = 256;

    private final LuajitFiles files;
    private final McodeSync jit;
    private final VmLabels vmLabels = new VmLabels();
    private final LuaFrameSymbolizer symbolizer;
    private final ProtoPrefetcher prefetcher;
    private final JitHealthSeries healthSeries = new JitHealthSeries(vmLabels);
    /** Abort sites published per VM and window (the window's busiest): the OTLP profile's; the store keeps fewer. */
    static final int WINDOW_ABORT_SITES = 32;
    /** The trace aborts of the last window that ended, per VM. */
    private volatile List<VmAborts.Summary> windowAborts = List.of();
    private final long[] seenVm = new long[SEEN_VMS];
    private final int[] seenPid = new int[SEEN_VMS];
    /** Lua frames named in the window being named, by what their name depends on (naming thread). */
    private final Map<NameKey, Frame> named = new HashMap<>();

    /** Trace frames with their inlined frames named in the window being named (naming thread). */
    private final Map<JitKey, List<Frame>> namedJit = new HashMap<>();

    /** A trace's frame as the kernel saw it (words 0-3, 5, 6), with its Lua caller. */
    record JitKey(int pid, long word, long word1, long fingerprint, long startpt, long trace, long pc,
            long callerWord, long callerPc, long callerFingerprint) {
    }

    /** A Lua frame as the kernel saw it, with its caller (the name depends on both). */
    record NameKey(int pid, long word, long pc, long fingerprint, long callerWord, long callerPc,
            long callerFingerprint) {
    }

    LuajitInterpreter(InterpreterContext context) {
        this.files = new LuajitFiles(context.maps(), context.failures());
        // two readers: the symbolizer's (its lock serializes the prefetch and naming threads) and the JIT sync's
        this.symbolizer = new LuaFrameSymbolizer(context.memory().get());
        this.prefetcher = new ProtoPrefetcher(symbolizer);
        try {
            this.jit = new McodeSync(context.maps().map(BpfMaps.PID_MAPS), files, context.memory().get(),
                    context.failures());
        } catch (RuntimeException | Error e) {
            prefetcher.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return LuajitPlugin.NAME;
    }

    @Override
    public MappingExtension mappings() {
        return files;
    }

    @Override
    public boolean namesFrameKind(int kind) {
        return kind == RecordLayout.FRAME_LUA || kind == RecordLayout.FRAME_LUA_JIT || kind == RecordLayout.FRAME_LUA_C;
    }

    @Override
    public long sampled(int pid, long vm, int vmstate, FrameWords stack) {
        int trace = 0;
        boolean side = false;
        int n = stack.length();
        for (int i = 0; i < n; i += 1 + FrameWords.extraWords(stack.word(i))) {
            long w = stack.word(i);
            if (FrameWords.kind(w) == RecordLayout.FRAME_LUA_JIT && i + 1 < n) {
                long w1 = stack.word(i + 1);
                trace = RecordLayout.luaJitTrace(w1);
                side = RecordLayout.luaJitSide(w1);
                break;
            }
        }
        int slot = (int) ((vm >>> 3) ^ pid * 0x9e3779b9L) & (SEEN_VMS - 1);
        if (seenVm[slot] != vm || seenPid[slot] != pid) {
            seenVm[slot] = vm;
            seenPid[slot] = pid;
            jit.vmSeen(pid, vm);
        }
        return vmLabels.key(pid, vm, vmstate, trace, side);
    }

    @Override
    public InterpreterProcess process(int pid) {
        LuajitBinary b = files.binaryOf(pid).orElse(null);
        return b == null ? null : new LuajitProcess(this, pid, b);
    }

    @Override
    public Frame frameWithoutProcess(int pid, FrameWords stack, int i, boolean afterNative,
            NativeNames natives) {
        return new LuajitProcess(this, pid, null).frame(stack, i, afterNative, natives);
    }

    @Override
    public Map<String, String> labels(int pid, long labelKey, InterpreterProcess process, FrameWords stack,
            NativeNames natives) {
        LuajitProcess p = process instanceof LuajitProcess lp ? lp : new LuajitProcess(this, pid, null);
        return p.labels(labelKey, stack, natives);
    }

    @Override
    public String errorReason(int reason) {
        return switch (reason) {
            case RecordLayout.ERR_LUA_NO_VM -> "lua: no valid VM";
            case RecordLayout.ERR_LUA_BAD_FRAME -> "lua: bad frame";
            case RecordLayout.ERR_LUA_READ_FAULT -> "lua: read fault";
            default -> null;
        };
    }

    @Override
    public void pidEvent(int type, int pid, long pc) {
        switch (type) {
            case RecordLayout.EVENT_EXEC -> jit.processGone(pid);
            case RecordLayout.EVENT_UNKNOWN_PC -> jit.unknownPc(pid);
            case RecordLayout.EVENT_UNKNOWN_LEAF -> jit.leafDispatch(pid, pc);
            default -> {
            }
        }
    }

    @Override
    public void processExited(int pid) {
        jit.processGone(pid);
        // label keys decode without the id table: the process's ids can go now (they are never reused)
        vmLabels.forget(pid);
    }

    @Override
    public void awaitSyncs(long maxWaitNanos) {
        jit.awaitIdle(maxWaitNanos);
    }

    @Override
    public void beforeNaming(long maxWaitNanos) {
        windowAborts = jit.cutAbortWindow(WINDOW_ABORT_SITES);
        prefetcher.awaitIdle(maxWaitNanos);
        named.clear(); // process maps and protos can change between windows
        namedJit.clear();
    }

    List<Frame> namedJit(JitKey key) {
        return namedJit.get(key);
    }

    void rememberJit(JitKey key, List<Frame> frames) {
        namedJit.put(key, frames);
    }

    Frame named(NameKey key) {
        return named.get(key);
    }

    void remember(NameKey key, Frame frame) {
        named.put(key, frame);
    }

    LuaFrameSymbolizer symbolizer() {
        return symbolizer;
    }

    ProtoPrefetcher prefetcher() {
        return prefetcher;
    }

    VmLabels vmLabels() {
        return vmLabels;
    }

    @Override
    public InterpreterStats stats(long[] k) {
        List<Measurement> m = new ArrayList<>();
        m.add(Measurement.counter("moonwalk.luajit.files.examined", "executable files examined for LuaJIT", Map.of(),
                files.filesExamined()));
        m.add(Measurement.counter("moonwalk.luajit.binaries.detected", "files recognised as LuaJIT", Map.of(),
                files.filesDetected()));
        m.add(Measurement.counter("moonwalk.luajit.binaries.refused",
                "files that look like LuaJIT but could not be established", Map.of(), files.filesRefused()));
        long namedFrames = symbolizer.named();
        long stale = symbolizer.stale();
        long invalid = symbolizer.invalid();
        String framesHelp = "distinct Lua frames named at window end, by result";
        m.add(Measurement.counter("moonwalk.lua.frames", framesHelp, Map.of("result", "named"), namedFrames));
        m.add(Measurement.counter("moonwalk.lua.frames", framesHelp, Map.of("result", "stale"), stale));
        m.add(Measurement.counter("moonwalk.lua.frames", framesHelp, Map.of("result", "invalid"), invalid));
        String prefetchHelp = "Lua frames whose protos were read while sampling, by result";
        m.add(Measurement.counter("moonwalk.lua.proto.prefetch", prefetchHelp, Map.of("result", "read"),
                prefetcher.read()));
        m.add(Measurement.counter("moonwalk.lua.proto.prefetch", prefetchHelp, Map.of("result", "failed"),
                prefetcher.failed()));
        m.add(Measurement.counter("moonwalk.lua.proto.prefetch", prefetchHelp, Map.of("result", "dropped"),
                prefetcher.dropped()));
        m.add(Measurement.gauge("moonwalk.lua.proto.prefetch.queue", "Lua frames waiting to be prefetched", Map.of(),
                prefetcher.queueSize()));
        LuaFrameSymbolizer.SnapshotStats snaps = symbolizer.snapshotStats();
        String snapHelp = "distinct sampled JIT trace positions named at window end, by how: through the trace's"
                + " snapshot (exact, or exact with inlined frames), or kept as the trace's frame (fallback reasons)";
        m.add(Measurement.counter("moonwalk.lua.jit.snapshots", snapHelp, Map.of("result", "exact"),
                snaps.exact() - snaps.inlined()));
        m.add(Measurement.counter("moonwalk.lua.jit.snapshots", snapHelp, Map.of("result", "inlined"),
                snaps.inlined()));
        for (SnapshotFallback f : SnapshotFallback.values()) {
            m.add(Measurement.counter("moonwalk.lua.jit.snapshots", snapHelp, Map.of("result", f.label()),
                    snaps.fallback(f)));
        }
        LuaFrameSymbolizer.ProtoCacheStats cache = symbolizer.protoCache();
        m.add(Measurement.counter("moonwalk.lua.proto.cache.hits", "proto reads answered from the cache", Map.of(),
                cache.hits()));
        m.add(Measurement.counter("moonwalk.lua.proto.cache.misses", "proto reads that went to target memory",
                Map.of(), cache.misses()));
        m.add(Measurement.gauge("moonwalk.lua.proto.cache.entries", "protos cached", Map.of(), cache.entries()));
        List<JitHealth> health = jit.health();
        VmDiagnostics diag = VmDiagnostics.of(jit);
        m.addAll(healthSeries.measurements(health, diag.heaps(), diag.aborts()));
        m.addAll(diag.hostMeasurements());
        return new InterpreterStats(name(), m, summary(k, namedFrames, stale, invalid, health, diag, snaps),
                List.of(files.fill(), jit.fill()), abortSites(windowAborts));
    }

    /**
     * The last window's abort sites as counts at Lua frames ({@code function (chunk:line)} of the trace's start),
     * labelled with the VM and LuaJIT's reason: the core turns them into the {@code trace_aborts} profile.
     */
    private List<InterpreterStats.SiteCount> abortSites(List<VmAborts.Summary> window) {
        List<InterpreterStats.SiteCount> out = new ArrayList<>();
        for (VmAborts.Summary vm : window) {
            String label = vmLabels.name(vm.pid(), vm.g());
            for (AbortSite s : vm.top()) {
                SiteName n = s.site();
                out.add(new InterpreterStats.SiteCount("trace_aborts", vm.pid(),
                        Frame.interpreted(LuaFrameSymbolizer.RUNTIME, n.function(), n.chunk(),
                                n == SiteName.UNKNOWN ? Frame.LINE_UNKNOWN : n.line(), n.startLine(), false),
                        Map.of("luajit.vm", label, "luajit.abort_reason", s.reason()), s.count()));
            }
        }
        return out;
    }

    /** The lines {@code record} prints about LuaJIT. */
    private List<String> summary(long[] k, long namedFrames, long stale, long invalid, List<JitHealth> health,
            VmDiagnostics diag, LuaFrameSymbolizer.SnapshotStats snaps) {
        List<String> out = new ArrayList<>();
        if (k.length > RecordLayout.STAT_LUA_ERRORS && k[RecordLayout.STAT_LUA_SEGMENTS] > 0) {
            out.add(String.format("lua: %d interpreter frames walked, %d ended in a Lua error frame; frames named %d,"
                    + " stale %d, invalid %d", k[RecordLayout.STAT_LUA_SEGMENTS], k[RecordLayout.STAT_LUA_ERRORS],
                    namedFrames, stale, invalid));
            out.add(String.format("lua protos read while sampling: %d frames read, %d failed, %d dropped (queue full)",
                    prefetcher.read(), prefetcher.failed(), prefetcher.dropped()));
        }
        if (k.length > RecordLayout.STAT_JIT_CFA_DISAGREE && k[RecordLayout.STAT_JIT_SEGMENTS] > 0) {
            out.add(String.format("jit: %d trace frames walked, vmstate named no trace holding the PC in %d (%.2f%%),"
                    + " CFA disagreed in %d", k[RecordLayout.STAT_JIT_SEGMENTS], k[RecordLayout.STAT_JIT_UNMATCHED],
                    100.0 * k[RecordLayout.STAT_JIT_UNMATCHED] / k[RecordLayout.STAT_JIT_SEGMENTS],
                    k[RecordLayout.STAT_JIT_CFA_DISAGREE]));
        }
        long fallbacks = snaps.fallbacks().values().stream().mapToLong(Long::longValue).sum();
        if (snaps.exact() + fallbacks > 0) {
            out.add(String.format("jit snapshots: %d trace positions named exactly (%d with inlined frames), %d kept"
                    + " the trace's frame %s", snaps.exact(), snaps.inlined(), fallbacks, new TreeMap<>(snaps.fallbacks())));
        }
        Map<Integer, int[]> routes = new TreeMap<>();
        for (JitHealth h : health) {
            out.add(String.format("luajit vm pid %d g 0x%x: jit %s, traces %d/%d (%d side), mcode %d/%d KB in %d"
                    + " areas, flushes %d", h.pid(), h.g(), h.jitOn() ? "on" : "off", h.liveTraces(), h.maxTrace(),
                    h.sideTraces(), h.mcodeBytes() >> 10, h.maxMcodeBytes() >> 10, h.areas(), h.flushes()));
            if (h.trackedNanos() > 0) {
                double secs = h.trackedNanos() / 1e9;
                out.add(String.format("luajit jit pid %d %s: %d traces compiled (%.1f/s), %d flushes (%.1f/s) in %.1f s"
                        + " tracked", h.pid(), vmLabels.name(h.pid(), h.g()), h.tracesCompiled(),
                        h.tracesCompiled() / secs, h.flushes(), h.flushes() / secs, secs));
            }
            out.addAll(diag.vmLines(h.pid(), h.g(), vmLabels));
            routes.computeIfAbsent(h.pid(), pid -> new int[] {jit.entriesOf(pid), jit.areasOf(pid)});
        }
        out.addAll(diag.processLines());
        routes.forEach((pid, r) -> out.add(String.format("luajit routes pid %d: %d pid_maps entries for %d mcode areas",
                pid, r[0], r[1])));
        return out;
    }

    @Override
    public void close() {
        try {
            jit.close();
        } finally {
            prefetcher.close();
        }
    }
}
