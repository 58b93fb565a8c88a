package io.moonwalk.luajit.naming;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.frame.Frame;
import io.moonwalk.luajit.detect.LuajitBinary;
import io.moonwalk.luajit.jit.SnapshotFallback;
import io.moonwalk.luajit.jit.SnapshotResult;
import io.moonwalk.luajit.jit.TraceSnapshotReader;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.luajit.proto.BytecodeSet;
import io.moonwalk.luajit.proto.ProtoFailure;
import io.moonwalk.luajit.proto.ProtoInfo;
import io.moonwalk.luajit.proto.ProtoReader;
import io.moonwalk.luajit.proto.ProtoResult;
import io.moonwalk.process.MemoryReader;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Names the Lua frames the kernel walker emitted ({@code MW_FRAME_LUA}: proto, bytecode index, fingerprint;
 * {@code MW_FRAME_LUA_C}: function object, ffid, C entry point). Protos are read from the live process with
 * the validity checks of {@link ProtoReader} and cached by (pid, proto, fingerprint) across windows; a frame
 * whose proto changed since the sample or fails a check becomes {@link LuaFrameNamer#STALE} /
 * {@link LuaFrameNamer#INVALID} and is counted, never another function's name.
 *
 * <p>A Lua frame's name comes from its caller's instruction (the next Lua frame outward in the same stack).
 *
 * <p>Thread-safe: every method holds this object's lock, because two threads use one instance — the
 * {@link ProtoPrefetcher} warms the proto cache while a window runs (so a process that exits before the window
 * ends still gets names), and the window-end symbolizer names frames from the warm cache. The
 * {@link ProtoReader}s, their scratch buffers and the memory reader are only touched under that lock.
 */
public final class LuaFrameSymbolizer {
    /** Marks a Lua frame of a process whose LuaJIT binary is not known (nothing to read its protos with). */
    public static final String UNKNOWN_BINARY = "[lua frame: unknown LuaJIT binary]";
    /** The runtime of the frames made here ({@link Frame#runtime()}): the OTLP frame type by default. */
    public static final String RUNTIME = "luajit";

    private final MemoryReader memory;
    private final Map<LuajitLayout, Reader> readers = new HashMap<>();
    /** The symbols of the process being named, for C functions (set per call, used by the namers). */
    private LongFunction<String> current = a -> null;
    private long named;
    private long stale;
    private long invalid;

    private record Reader(ProtoReader protos, LuaFrameNamer namer, TraceSnapshotReader snapshots) {
    }

    /** @param memory reads target memory (process_vm_readv) */
    public LuaFrameSymbolizer(MemoryReader memory) {
        this.memory = memory;
    }

    /**
     * The frame of a Lua function: {@code pt} running at bytecode index {@code pc} ({@link
     * RecordLayout#LUA_PC_UNKNOWN} when unknown), called from {@code callerPt} at {@code callerPc} (callerPt 0:
     * the caller is not a Lua function), in a process using LuaJIT binary {@code binary} (null: unknown).
     */
    public synchronized Frame luaFrame(int pid, LuajitBinary binary, long pt, long pc, long fingerprint,
            long callerPt, long callerPc, long callerFingerprint, LongFunction<String> nativeSymbols) {
        Reader r = reader(binary, nativeSymbols);
        if (r == null) {
            invalid++;
            return withoutSource(UNKNOWN_BINARY);
        }
        ProtoResult callee = r.protos.lookup(pid, pt, fingerprint);
        if (!(callee instanceof ProtoInfo info)) {
            if (callee == ProtoFailure.STALE) {
                stale++;
                return withoutSource(LuaFrameNamer.STALE);
            }
            invalid++;
            return withoutSource(LuaFrameNamer.INVALID);
        }
        ProtoInfo caller = null;
        if (callerPt != 0 && callerPc != RecordLayout.LUA_PC_UNKNOWN
                && r.protos.lookup(pid, callerPt, callerFingerprint) instanceof ProtoInfo c) {
            caller = c;
        }
        named++;
        String function = r.namer.functionName(pid, info, caller, caller == null ? -1 : pcIndex(callerPc));
        return Frame.interpreted(RUNTIME, function, ChunkNames.display(info.chunkname()),
                LuaFrameNamer.currentLine(info, pcIndex(pc)), info.firstline(), false);
    }

    /**
     * The Lua frames trace {@code traceno} (GCtrace {@code trace}, started in {@code startpt}) ran at machine-code
     * address {@code pc} over its base frame running {@code basePt}: from the snapshot covering the address, or
     * why they are not known ({@link TraceSnapshotReader}).
     */
    public synchronized SnapshotResult snapshotFrames(int pid, LuajitBinary binary, long trace, int traceno,
            long startpt, long pc, long basePt) {
        Reader r = reader(binary, NO_SYMBOLS);
        if (r == null) {
            return SnapshotFallback.UNREADABLE;
        }
        return r.snapshots.frames(pid, trace, traceno, startpt, pc, basePt);
    }

    /** Trace positions resolved through a snapshot: {exact, with inlined frames}; fallbacks by reason. */
    public synchronized SnapshotStats snapshotStats() {
        long exact = 0;
        long inlined = 0;
        Map<SnapshotFallback, Long> fallbacks = new EnumMap<>(SnapshotFallback.class);
        for (Reader r : readers.values()) {
            exact += r.snapshots.exact();
            inlined += r.snapshots.inlinedExact();
            r.snapshots.fallbacks().forEach((k, v) -> fallbacks.merge(k, v, Long::sum));
        }
        return new SnapshotStats(exact, inlined, fallbacks);
    }

    /** Totals of {@link #snapshotStats()}. */
    public record SnapshotStats(long exact, long inlined, Map<SnapshotFallback, Long> fallbacks) {
        public SnapshotStats {
            fallbacks = Map.copyOf(fallbacks);
        }

        public long fallback(SnapshotFallback f) {
            return fallbacks.getOrDefault(f, 0L);
        }
    }

    /** A Lua frame without a source position: a built-in, a C function, or a marker of a frame that could not be named. */
    public static Frame withoutSource(String text) {
        return Frame.interpreted(RUNTIME, text, "", Frame.LINE_UNKNOWN, 0, false);
    }

    /** The frame of a built-in (ffid > 1) or C function (ffid 1) on the Lua stack. */
    public synchronized Frame cFrame(int pid, LuajitBinary binary, int ffid, long cfunc,
            LongFunction<String> nativeSymbols) {
        Reader r = reader(binary, nativeSymbols);
        if (ffid == 1 || r == null) {
            String s = nativeSymbols.apply(cfunc);
            return withoutSource(s != null ? s : "C function 0x" + Long.toHexString(cfunc));
        }
        return withoutSource(r.namer.fastFunctionLabel(ffid));
    }

    private static int pcIndex(long pc) {
        return pc == RecordLayout.LUA_PC_UNKNOWN || pc < 0 || pc > Integer.MAX_VALUE ? -1 : (int) pc;
    }

    /**
     * Reads the protos of one Lua frame and its caller, and the caller's constant the name comes from, into the
     * cache, without counting a named frame (the window-end naming counts). Returns true when the callee proto
     * was read and validated (or already cached).
     */
    public synchronized boolean warm(int pid, LuajitBinary binary, long pt, long pc, long fingerprint, long callerPt,
            long callerPc, long callerFingerprint) {
        Reader r = reader(binary, NO_SYMBOLS);
        if (r == null || !(r.protos.lookup(pid, pt, fingerprint) instanceof ProtoInfo info)) {
            return false;
        }
        ProtoInfo caller = null;
        if (callerPt != 0 && callerPc != RecordLayout.LUA_PC_UNKNOWN
                && r.protos.lookup(pid, callerPt, callerFingerprint) instanceof ProtoInfo c) {
            caller = c;
        }
        // naming memoizes the caller's string constant in its cached proto: the name survives the process
        r.namer.functionName(pid, info, caller, caller == null ? -1 : pcIndex(callerPc));
        return true;
    }

    private static final LongFunction<String> NO_SYMBOLS = a -> null;

    private Reader reader(LuajitBinary b, LongFunction<String> nativeSymbols) {
        if (b == null) {
            return null;
        }
        // the namer's C-function callback is per call: the process's symbols
        current = nativeSymbols;
        return readers.computeIfAbsent(b.layout(), l -> {
            ProtoReader pr = new ProtoReader(memory, l, BytecodeSet.LUAJIT_2_1);
            return new Reader(pr, new LuaFrameNamer(pr, FastFunctionNames.forLayout(l), a -> current.apply(a)),
                    new TraceSnapshotReader(memory, l));
        });
    }

    /** Lua frames named since creation. */
    public synchronized long named() {
        return named;
    }

    /** Lua frames whose proto changed between the sample and its reading (freed and reused). */
    public synchronized long stale() {
        return stale;
    }

    /** Proto cache counters summed over the LuaJIT layouts in use. */
    public synchronized ProtoCacheStats protoCache() {
        long hits = 0;
        long misses = 0;
        long entries = 0;
        long capacity = 0;
        for (Reader r : readers.values()) {
            ProtoReader.Stats st = r.protos.stats();
            hits += st.hits();
            misses += st.misses();
            entries += st.size();
            capacity += st.capacity();
        }
        return new ProtoCacheStats(hits, misses, entries, capacity);
    }

    /** @param entries protos cached now; {@code capacity} is their bound (per LuaJIT layout in use) */
    public record ProtoCacheStats(long hits, long misses, long entries, long capacity) {
    }

    /** Lua frames whose proto failed a validity check or could not be read. */
    public synchronized long invalid() {
        return invalid;
    }
}
