package io.moonwalk.luajit.jit;

import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.luajit.proto.ProtoFingerprint;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a sampled machine-code position inside a LuaJIT trace into the Lua frames the trace was running there,
 * inlined calls included, the way LuaJIT itself would restore them on an exit: the snapshot is the one of the next
 * exit branch after the position ({@link #nextExit}; where none is recognised, the rightmost snapshot whose
 * {@code mcofs} is at or below it, the search of LuaJIT's {@code lj_trace_unwind}), its frame slots name the
 * inlined functions (IR constants), their frame links give each caller's call site, and its PC gives the
 * innermost frame's current bytecode.
 *
 * <p>Everything is read from the target with {@link MemoryReader} and checked before use: the trace must still be
 * the one the kernel sampled (number, start proto, machine code holding the PC), every function must be a Lua
 * function constant of the trace, every PC must lie inside the bytecode of the frame it belongs to, and the chain
 * must start in the frame the kernel walked ({@code g->jit_base}). Anything else is a {@link SnapshotFallback}
 * (counted): the caller keeps the trace's frame as the kernel saw it, never a guessed chain.
 *
 * <p>Struct facts (LuaJIT 2.1 {@code lj_jit.h}, {@code lj_snap.c}, {@code lj_ir.h}; the same in upstream and
 * OpenResty, GC64 and not): {@code SnapShot} is 12 bytes {mapofs u32, ref u16, mcofs u16, nslots, topslot, nent,
 * count}; a snapshot entry is u32 {@code slot << 24 | flags | ref}; after the {@code nent} entries the map holds
 * the PC (GC64: one u64 {@code pc << 8 | baseslot}; otherwise u32 PCs and frame links, innermost first); an
 * {@code IRIns} is 8 bytes with the opcode in byte 5, and 64-bit constants (KNUM, GC64 KGC) keep their value in
 * the following slot. The GCtrace fields sit at fixed distances before {@code startpt} in both GC modes (0x40 /
 * 0x30): ir −0x20, nsnapmap −0x14, snap −0x10, snapmap −8; nsnap is the u16 right after the GC header.
 *
 * <p>Not thread-safe; the Lua frame symbolizer serializes its callers. Caches are bounded (least recently used
 * entries go).
 */
public final class TraceSnapshotReader {
    static final int SNAPSHOT_BYTES = 12;
    static final int IR_BYTES = 8;
    /** IR opcodes (lj_ir.h IRDEF order, unchanged across 2.1): a GC object constant and a 64-bit number. */
    static final int IR_KGC = 24;
    static final int IR_KNUM = 28;
    /** IR references below this are constants. */
    static final int REF_BIAS = 0x8000;
    static final int SNAP_FRAME = 0x010000;
    static final int SNAP_CONT = 0x020000;
    static final int IR_OPCODE = 5;
    /** GCtrace field distances before {@code startpt}. */
    static final int IR_BEFORE_STARTPT = 0x20;
    static final int NSNAPMAP_BEFORE_STARTPT = 0x14;
    static final int SNAP_BEFORE_STARTPT = 0x10;
    static final int SNAPMAP_BEFORE_STARTPT = 0x8;
    /** More map entries for one snapshot than 255 slots plus frame links of 255 frames are not LuaJIT's. */
    private static final int MAX_MAP_ENTRIES = 1024;
    /** Deepest inlining followed (LuaJIT's own limit, maxrecord / loop unrolling, is far below this). */
    private static final int MAX_DEPTH = 64;
    private static final int CHUNK = 1 << 16;
    private static final int TRACE_CACHE = 4096;
    private static final int RESULT_CACHE = 1 << 16;

    private final MemoryReader memory;
    private final LuajitLayout l;
    private final byte[] traceBuf;
    private final byte[] protoBuf;
    private final byte[] funcBuf;
    private final byte[] irBuf = new byte[2 * IR_BYTES];
    private byte[] mapBuf = new byte[256];
    private final Map<TraceKey, Trace> traces = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<TraceKey, Trace> e) {
            return size() > TRACE_CACHE;
        }
    };
    private final Map<ResultKey, SnapshotResult> results = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ResultKey, SnapshotResult> e) {
            return size() > RESULT_CACHE;
        }
    };
    private final EnumMap<SnapshotFallback, Long> fallbacks = new EnumMap<>(SnapshotFallback.class);
    private long exact;
    private long inlinedExact;

    private record TraceKey(int pid, long trace) {
    }

    private record ResultKey(int pid, long trace, int traceno, long startpt, long pc, long basePt) {
    }

    /** One trace's snapshot table as read, with the header fields it was validated by. */
    private record Trace(int traceno, long startpt, long mcode, long szmcode, long ir, long snap, int nsnap,
            long snapmap, long nsnapmap, int[] mcofs, int[] mapofs, int[] nent, Exits exits) {
    }

    /** A trace's machine code and the exit stubs its branches were found to reach (read on first use). */
    private static final class Exits {
        boolean loaded;
        byte[] code;
        /** The loop's back branch and its target (code offsets), -1 when the trace does not end in a loop. */
        int loopBranch = -1;
        int loopTarget = -1;
        final Map<Long, Integer> stubs = new java.util.HashMap<>();
    }

    public TraceSnapshotReader(MemoryReader memory, LuajitLayout layout) {
        this.memory = memory;
        this.l = layout;
        this.traceBuf = new byte[Math.max(Math.max(l.tMcode() + 8, l.tTraceno() + 2), l.tStartpt() + l.refSize())];
        this.protoBuf = new byte[l.ptSize()];
        this.funcBuf = new byte[l.fnPc() + l.refSize()];
    }

    /**
     * The frames trace {@code traceno} (GCtrace at {@code trace}, started in {@code startpt}) was running at machine
     * code address {@code pc}, whose base frame (at {@code g->jit_base}) runs proto {@code basePt}.
     */
    public SnapshotResult frames(int pid, long trace, int traceno, long startpt, long pc, long basePt) {
        if (trace == 0 || traceno == 0) {
            return count(SnapshotFallback.NO_TRACE);
        }
        ResultKey key = new ResultKey(pid, trace, traceno, startpt, pc, basePt);
        SnapshotResult r = results.get(key);
        if (r == null) {
            r = resolve(pid, trace, traceno, startpt, pc, basePt);
            if (r != SnapshotFallback.UNREADABLE) {
                results.put(key, r);
            }
        }
        if (r instanceof SnapshotFrames f) {
            exact++;
            if (f.inlined() > 0) {
                inlinedExact++;
            }
            return f;
        }
        return count((SnapshotFallback) r);
    }

    private SnapshotFallback count(SnapshotFallback f) {
        fallbacks.merge(f, 1L, Long::sum);
        return f;
    }

    private SnapshotResult resolve(int pid, long traceAddr, int traceno, long startpt, long pc, long basePt) {
        Object t = trace(pid, traceAddr, traceno, startpt, pc);
        if (t instanceof SnapshotFallback f) {
            return f;
        }
        Trace tr = (Trace) t;
        long ofs = pc - tr.mcode;
        int next = nextExit(pid, tr, ofs);
        if (next >= 0) {
            return chain(pid, tr, next, basePt);
        }
        // rightmost snapshot whose code starts at or below the offset
        int lo = 0;
        int hi = tr.nsnap;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ofs < tr.mcofs[mid]) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        int sn = hi - 1;
        if (sn < 0) {
            return SnapshotFallback.NO_SNAPSHOT;
        }
        return chain(pid, tr, sn, basePt);
    }

    /** The trace at {@code addr}, read or cached, if it is still the one sampled. */
    private Object trace(int pid, long addr, int traceno, long startpt, long pc) {
        if (memory.read(pid, addr, traceBuf, 0, traceBuf.length) != ReadStatus.OK) {
            return SnapshotFallback.UNREADABLE;
        }
        byte[] b = traceBuf;
        int ts = l.tStartpt();
        long mcode = JitStateReader.i64(b, l.tMcode());
        long szmcode = JitStateReader.i32(b, l.tSzmcode()) & 0xffffffffL;
        if ((b[l.gcGct()] & 0xff) != LuajitLayout.GCT_TRACE || JitStateReader.u16(b, l.tTraceno()) != traceno
                || JitStateReader.ref(b, ts, l.refSize()) != startpt || pc < mcode || pc - mcode >= szmcode) {
            return SnapshotFallback.STALE;
        }
        int nsnap = JitStateReader.u16(b, l.gcGct() + 1);
        long ir = JitStateReader.i64(b, ts - IR_BEFORE_STARTPT);
        long nsnapmap = JitStateReader.i32(b, ts - NSNAPMAP_BEFORE_STARTPT) & 0xffffffffL;
        long snap = JitStateReader.i64(b, ts - SNAP_BEFORE_STARTPT);
        long snapmap = JitStateReader.i64(b, ts - SNAPMAP_BEFORE_STARTPT);
        TraceKey key = new TraceKey(pid, addr);
        Trace cached = traces.get(key);
        if (cached != null && cached.traceno == traceno && cached.startpt == startpt && cached.mcode == mcode
                && cached.szmcode == szmcode && cached.ir == ir && cached.snap == snap && cached.nsnap == nsnap
                && cached.snapmap == snapmap && cached.nsnapmap == nsnapmap) {
            return cached;
        }
        if (nsnap == 0 || snap == 0 || snapmap == 0 || ir == 0) {
            return SnapshotFallback.NO_SNAPSHOT;
        }
        int[] mcofs = new int[nsnap];
        int[] mapofs = new int[nsnap];
        int[] nent = new int[nsnap];
        byte[] chunk = new byte[Math.min(CHUNK / SNAPSHOT_BYTES, nsnap) * SNAPSHOT_BYTES];
        int per = chunk.length / SNAPSHOT_BYTES;
        for (int first = 0; first < nsnap; first += per) {
            int n = Math.min(per, nsnap - first);
            if (memory.read(pid, snap + (long) first * SNAPSHOT_BYTES, chunk, 0, n * SNAPSHOT_BYTES) != ReadStatus.OK) {
                return SnapshotFallback.UNREADABLE;
            }
            for (int i = 0; i < n; i++) {
                int o = i * SNAPSHOT_BYTES;
                mapofs[first + i] = JitStateReader.i32(chunk, o);
                mcofs[first + i] = JitStateReader.u16(chunk, o + 6);
                nent[first + i] = chunk[o + 10] & 0xff;
            }
        }
        // LuaJIT keeps both orders; a table out of order or outside the code is not this trace's
        for (int i = 0; i < nsnap; i++) {
            if (mcofs[i] >= szmcode || (i > 0 && mcofs[i] < mcofs[i - 1])
                    || (mapofs[i] & 0xffffffffL) > nsnapmap || (i > 0 && mapofs[i] < mapofs[i - 1])) {
                return SnapshotFallback.NO_SNAPSHOT;
            }
        }
        Trace t = new Trace(traceno, startpt, mcode, szmcode, ir, snap, nsnap, snapmap, nsnapmap, mcofs, mapofs, nent,
                new Exits());
        traces.put(key, t);
        return t;
    }

    /**
     * The snapshot of the first exit branch at or after offset {@code ofs} of the trace's code — the state LuaJIT
     * restores if the trace leaves at its next exit, which is where jit.p's profiler hook sees it — or -1 when
     * none is recognised (code unreadable, no exit up to the end, more than 256 snapshots).
     *
     * <p>Why not the snapshot whose code region holds the PC: LuaJIT's loop optimisation copies only the
     * snapshots that a guard needs, so in a loop body one snapshot's region can run past the return of an inlined
     * call into the caller's code (a loop calling {@code mix()} then doing its own arithmetic is all "mix" by
     * region). The next exit's snapshot is the one the following code is still covered by.
     *
     * <p>The scan follows the loop's back branch once ({@link #findLoop}; the loop runs many times for each exit, so
     * the next exit of a position after the last exit of the loop body is the first one from the loop's start).
     *
     * <p>x86-64 exits are {@code jcc rel32} / {@code jmp rel32} to an exit stub ({@code lj_asm_x86.h}
     * {@code asm_exitstub_gen}: stub n starts with {@code push n & 0xff}, then {@code jmp short} or, last of its
     * group of 32, the {@code push} of the high byte). Bytes are scanned, not decoded: a branch only counts when its
     * target lies outside this trace and starts such a stub, and a side trace patched over an exit (its branch now
     * reaches the side trace) is skipped for the next one.
     */
    private int nextExit(int pid, Trace t, long ofs) {
        Exits e = t.exits;
        if (!e.loaded) {
            e.loaded = true;
            byte[] code = new byte[(int) t.szmcode];
            if (t.nsnap <= 256 && memory.read(pid, t.mcode, code, 0, code.length) == ReadStatus.OK) {
                e.code = code;
                findLoop(e);
            }
        }
        byte[] c = e.code;
        if (c == null) {
            return -1;
        }
        boolean wrapped = false;
        for (int i = (int) Math.max(0, ofs); i + 5 <= c.length; i++) {
            if (i == e.loopBranch && !wrapped) {
                // the loop runs many times for each exit: go round once
                wrapped = true;
                i = e.loopTarget - 1;
                continue;
            }
            int len;
            if ((c[i] & 0xff) == 0x0f && i + 6 <= c.length && (c[i + 1] & 0xf0) == 0x80) {
                len = 6;
            } else if ((c[i] & 0xff) == 0xe9) {
                len = 5;
            } else {
                continue;
            }
            long target = t.mcode + i + len + JitStateReader.i32(c, i + len - 4);
            if (target >= t.mcode && target < t.mcode + t.szmcode) {
                continue; // a branch inside the trace
            }
            int exit = e.stubs.computeIfAbsent(target, a -> stubExit(pid, a));
            if (exit >= 0 && exit < t.nsnap) {
                return exit;
            }
        }
        return -1;
    }

    /**
     * A looping trace ends ({@code lj_asm.c} {@code asm_loop}, before alignment padding) in the back branch to the
     * loop's start, short {@code jcc rel8} or {@code jcc rel32}, then the {@code jmp rel32} of the loop's exit; only
     * that shape is taken as the loop (bytes are not decoded, so a branch-like byte elsewhere is never followed).
     */
    private static void findLoop(Exits e) {
        byte[] c = e.code;
        int end = c.length;
        while (end > 0 && ((c[end - 1] & 0xff) == 0x90 || (c[end - 1] & 0xff) == 0xcc)) {
            end--;
        }
        int j = end - 5;
        if (j < 2 || (c[j] & 0xff) != 0xe9) {
            return;
        }
        int branch;
        int target;
        if ((c[j - 2] & 0xf0) == 0x70) {
            branch = j - 2;
            target = j + c[j - 1];
        } else if (j >= 6 && (c[j - 6] & 0xff) == 0x0f && (c[j - 5] & 0xf0) == 0x80) {
            branch = j - 6;
            target = j + JitStateReader.i32(c, j - 4);
        } else {
            return;
        }
        if (target >= 0 && target < branch) {
            e.loopBranch = branch;
            e.loopTarget = target;
        }
    }

    /** The exit number's low byte if an exit stub starts at {@code a}, else -1. */
    private int stubExit(int pid, long a) {
        byte[] b = new byte[4];
        if (memory.read(pid, a, b, 0, 4) != ReadStatus.OK || (b[0] & 0xff) != 0x6a
                || ((b[2] & 0xff) != 0xeb && (b[2] & 0xff) != 0x6a)) {
            return -1;
        }
        return b[1] & 0xff;
    }

    /** The frames of snapshot {@code sn}, checked against the base frame's proto. */
    private SnapshotResult chain(int pid, Trace t, int sn, long basePt) {
        long next = sn + 1 < t.nsnap ? t.mapofs[sn + 1] : t.nsnapmap;
        int entries = (int) (next - t.mapofs[sn]);
        int nent = t.nent[sn];
        boolean gc64 = l.gc64();
        if (entries < nent + (gc64 ? 2 : 1) || entries > MAX_MAP_ENTRIES) {
            return SnapshotFallback.NO_SNAPSHOT;
        }
        if (mapBuf.length < entries * 4) {
            mapBuf = new byte[entries * 4];
        }
        if (memory.read(pid, t.snapmap + 4L * t.mapofs[sn], mapBuf, 0, entries * 4) != ReadStatus.OK) {
            return SnapshotFallback.UNREADABLE;
        }
        int[] map = new int[entries];
        for (int i = 0; i < entries; i++) {
            map[i] = JitStateReader.i32(mapBuf, 4 * i);
        }
        long[] fns = new long[MAX_DEPTH];
        long[] links = new long[MAX_DEPTH];
        int depth = 0;
        long pc;
        if (gc64) {
            // frames are slot pairs (function, link); the link slot carries SNAP_FRAME and a KNUM of the link
            pc = ((map[nent] & 0xffffffffL) | (long) map[nent + 1] << 32) >>> 8;
            for (int i = 0; i < nent; i++) {
                int e = map[i];
                int slot = e >>> 24;
                if ((e & SNAP_CONT) != 0) {
                    return SnapshotFallback.UNSUPPORTED_FRAME;
                }
                if ((e & SNAP_FRAME) == 0 || slot < 3) {
                    continue;
                }
                if (depth == MAX_DEPTH) {
                    return SnapshotFallback.UNSUPPORTED_FRAME;
                }
                long link = constant(pid, t, e & 0xffff, IR_KNUM);
                if (link == -1) {
                    return SnapshotFallback.FRAME_NOT_CONSTANT;
                }
                int fe = entryOfSlot(map, nent, slot - 1);
                long fn = fe == -1 ? -1 : constant(pid, t, fe & 0xffff, IR_KGC);
                if (fn == -1) {
                    return SnapshotFallback.FRAME_NOT_CONSTANT;
                }
                fns[depth] = fn;
                links[depth++] = link;
            }
        } else {
            // function slots carry SNAP_FRAME; the links follow the PC in the map, innermost frame first
            pc = map[nent] & 0xffffffffL;
            for (int i = 0; i < nent; i++) {
                int e = map[i];
                int slot = e >>> 24;
                if ((e & SNAP_CONT) != 0) {
                    return SnapshotFallback.UNSUPPORTED_FRAME;
                }
                if ((e & SNAP_FRAME) == 0 || slot < 1) {
                    continue;
                }
                if (depth == MAX_DEPTH) {
                    return SnapshotFallback.UNSUPPORTED_FRAME;
                }
                long fn = constant(pid, t, e & 0xffff, IR_KGC);
                if (fn == -1) {
                    return SnapshotFallback.FRAME_NOT_CONSTANT;
                }
                fns[depth++] = fn;
            }
            if (entries < nent + 1 + depth) {
                return SnapshotFallback.NO_SNAPSHOT;
            }
            for (int d = 0; d < depth; d++) {
                links[d] = map[nent + depth - d] & 0xffffffffL;
            }
        }
        long[] protos = new long[depth + 1];
        long[] fps = new long[depth + 1];
        int[] pcs = new int[depth + 1];
        long[] bc = new long[depth + 1];
        long[] sizebc = new long[depth + 1];
        protos[0] = basePt;
        for (int d = 0; d <= depth; d++) {
            if (d > 0) {
                // a link whose low bits are not 0 is a pcall / continuation frame: not followed
                if ((links[d - 1] & 3) != 0) {
                    return SnapshotFallback.UNSUPPORTED_FRAME;
                }
                protos[d] = protoOf(pid, fns[d - 1]);
                if (protos[d] == 0) {
                    return SnapshotFallback.FRAME_NOT_CONSTANT;
                }
            }
            if (memory.read(pid, protos[d], protoBuf, 0, protoBuf.length) != ReadStatus.OK) {
                return SnapshotFallback.UNREADABLE;
            }
            if ((protoBuf[l.gcGct()] & 0xff) != LuajitLayout.GCT_PROTO) {
                return SnapshotFallback.BASE_MISMATCH;
            }
            fps[d] = ProtoFingerprint.fingerprint(protoBuf, protos[d], l);
            bc[d] = protos[d] + l.ptSize();
            sizebc[d] = JitStateReader.i32(protoBuf, l.ptSizebc()) & 0xffffffffL;
        }
        for (int d = 0; d < depth; d++) {
            // the link is the return address into frame d: the call instruction is the one before it
            long idx = index(links[d], bc[d], sizebc[d]) - 1;
            if (idx < 0) {
                return SnapshotFallback.BASE_MISMATCH;
            }
            pcs[d] = (int) idx;
        }
        long idx = index(pc, bc[depth], sizebc[depth]);
        if (idx < 0) {
            return SnapshotFallback.BASE_MISMATCH;
        }
        pcs[depth] = (int) idx;
        return new SnapshotFrames(protos, fps, pcs, sn);
    }

    /** Bytecode index of {@code pc} in bytecode at {@code bc} of {@code sizebc} instructions, or -1. */
    private static long index(long pc, long bc, long sizebc) {
        if (pc < bc || ((pc - bc) & 3) != 0) {
            return -1;
        }
        long i = (pc - bc) >>> 2;
        return i < sizebc ? i : -1;
    }

    private static int entryOfSlot(int[] map, int nent, int slot) {
        for (int i = 0; i < nent; i++) {
            if (map[i] >>> 24 == slot) {
                return map[i];
            }
        }
        return -1;
    }

    /**
     * The value of IR constant {@code ref} of opcode {@code op} (a KGC's object address, a KNUM's 64 bits), or -1
     * when the reference is not such a constant of the trace.
     */
    private long constant(int pid, Trace t, int ref, int op) {
        if (ref >= REF_BIAS || ref == 0) {
            return -1;
        }
        boolean wide = op == IR_KNUM || l.gc64();
        if (memory.read(pid, t.ir + (long) ref * IR_BYTES, irBuf, 0, wide ? 2 * IR_BYTES : IR_BYTES)
                != ReadStatus.OK) {
            return -1;
        }
        if ((irBuf[IR_OPCODE] & 0xff) != op) {
            return -1;
        }
        return wide ? JitStateReader.i64(irBuf, IR_BYTES) : JitStateReader.i32(irBuf, 0) & 0xffffffffL;
    }

    /** The proto of Lua function object {@code fn}, or 0 if it is not one. */
    private long protoOf(int pid, long fn) {
        if (memory.read(pid, fn, funcBuf, 0, funcBuf.length) != ReadStatus.OK
                || (funcBuf[l.gcGct()] & 0xff) != LuajitLayout.GCT_FUNC || funcBuf[l.fnFfid()] != 0) {
            return 0;
        }
        long bc = JitStateReader.ref(funcBuf, l.fnPc(), l.refSize());
        return bc > l.ptSize() ? bc - l.ptSize() : 0;
    }

    /** Forgets what was read from {@code pid} (the process exited). */
    public void forgetPid(int pid) {
        for (Iterator<TraceKey> it = traces.keySet().iterator(); it.hasNext(); ) {
            if (it.next().pid == pid) {
                it.remove();
            }
        }
        for (Iterator<ResultKey> it = results.keySet().iterator(); it.hasNext(); ) {
            if (it.next().pid == pid) {
                it.remove();
            }
        }
    }

    /** Trace frames resolved through a snapshot (inlined frames or not). */
    public long exact() {
        return exact;
    }

    /** ... of them with at least one inlined frame. */
    public long inlinedExact() {
        return inlinedExact;
    }

    /** Trace frames left as the kernel saw them, by reason. */
    public Map<SnapshotFallback, Long> fallbacks() {
        return new EnumMap<>(fallbacks);
    }
}
