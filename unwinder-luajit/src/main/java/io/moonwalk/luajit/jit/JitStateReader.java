package io.moonwalk.luajit.jit;

import io.moonwalk.luajit.jit.JitReadException.Reason;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads one VM's JIT state — mcode areas, live traces, parameters, flags — from another process with
 * {@link MemoryReader} only (the target keeps running). The target changes while we read: the jit_State
 * header is read before and after the traces, and a read that saw it change (an area allocated, a flush) is
 * repeated a few times before it fails as {@link Reason#UNSTABLE}. Everything read is bounded before use, so
 * a garbage g or a looping area chain ends in a {@link JitReadException} after a bounded number of reads.
 *
 * <p>Not thread-safe (scratch buffers); one per syncing thread. Not a per-sample path: it is called when the
 * agent syncs a VM (seconds apart), and its cost is one read per area and per live trace.
 */
public final class JitStateReader {
    /** Longest area chain accepted; LuaJIT's limit (maxmcode / sizemcode) is 1280 with OpenResty's defaults. */
    public static final int MAX_AREAS = 4096;
    /** Largest trace array: trace numbers are 16-bit in GCtrace. */
    public static final int MAX_SIZETRACE = 1 << 16;
    /** Largest single mcode area accepted (sizemcode is in KB; nobody configures a GB). */
    public static final long MAX_AREA_BYTES = 1L << 30;
    /** Attempts at a consistent read before giving up with {@link Reason#UNSTABLE}. */
    public static final int ATTEMPTS = 4;
    private static final long PAGE = 4096;
    private static final int CHUNK = 1 << 16;
    /** Anything larger in a parameter is not a LuaJIT setting but a stray word. */
    private static final int MAX_PARAM = 1 << 24;

    private final MemoryReader memory;
    private final LuajitLayout l;
    private final JitOffsets o;
    private final byte[] header;
    private final byte[] header2;
    private final byte[] traceBuf;
    private final byte[] small = new byte[16];
    private long reads;

    public JitStateReader(MemoryReader memory, LuajitLayout layout) {
        this.memory = memory;
        this.l = layout;
        this.o = JitOffsets.of(layout);
        this.header = new byte[o.spanEnd() - o.spanStart()];
        this.header2 = new byte[header.length];
        int traceEnd = Math.max(Math.max(l.tMcode() + 8, l.tRoot() + 2), Math.max(l.tStartpc(), l.tStartpt())
                + l.refSize());
        this.traceBuf = new byte[Math.max(traceEnd, l.tSpadjust() + 2)];
    }

    public LuajitLayout layout() {
        return l;
    }

    public JitOffsets offsets() {
        return o;
    }

    /** Number of target reads issued so far (each is one process_vm_readv). */
    public long reads() {
        return reads;
    }

    /**
     * The {@code global_State} of the thread (lua_State / coroutine) at {@code L}: {@code L->glref}, after
     * checking that {@code L} is a thread object.
     */
    public long globalOfThread(int pid, long L) throws JitReadException {
        int n = Math.max(l.lGlref() + l.refSize(), l.gcGct() + 1);
        byte[] b = new byte[n];
        readExactly(pid, L, b, n, "lua_State");
        if ((b[l.gcGct()] & 0xff) != LuajitLayout.GCT_THREAD) {
            throw new JitReadException(Reason.NOT_A_JIT_STATE, "0x" + Long.toHexString(L)
                    + " is not a lua_State (GC type " + (b[l.gcGct()] & 0xff) + ", expected "
                    + LuajitLayout.GCT_THREAD + ")");
        }
        return ref(b, l.lGlref(), l.refSize());
    }

    /** Reads the JIT state of the VM whose {@code global_State} is at {@code g}. */
    public JitSnapshot read(int pid, long g) throws JitReadException {
        if (g == 0 || (g & 7) != 0) {
            throw new JitReadException(Reason.NOT_A_JIT_STATE, "g 0x" + Long.toHexString(g) + " is not a "
                    + "global_State address (null or misaligned)");
        }
        checkMainThread(pid, g);
        String lastChange = "";
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            readExactly(pid, g + o.spanStart(), header, header.length, "jit_State");
            Header h;
            List<McodeArea> areas;
            List<TraceInfo> traces = new ArrayList<>();
            int rejected;
            try {
                h = parse(header, g);
                areas = readAreas(pid, h);
                rejected = readTraces(pid, h, areas, traces);
            } catch (JitReadException e) {
                // a flush can unmap areas and free the trace array under our feet: retry unless it is final
                boolean transient_ = e.reason() == Reason.UNREADABLE || e.reason() == Reason.BAD_AREA_CHAIN
                        || e.reason() == Reason.UNSTABLE;
                if (!transient_ || attempt == ATTEMPTS - 1) {
                    throw e;
                }
                lastChange = e.getMessage();
                continue;
            }
            int vmstate = readVmstate(pid, g);
            readExactly(pid, g + o.spanStart(), header2, header2.length, "jit_State");
            Header after;
            try {
                after = parse(header2, g);
            } catch (JitReadException e) {
                if (e.reason() != Reason.UNSTABLE || attempt == ATTEMPTS - 1) {
                    throw e;
                }
                lastChange = e.getMessage();
                continue;
            }
            long total = 0;
            for (McodeArea a : areas) {
                total += a.size();
            }
            boolean stable = after.sameShape(h);
            if (stable && total == h.szallmcarea && rejected == 0) {
                return snapshot(pid, g, h, vmstate, areas, traces, 0);
            }
            // An area allocated or a flush between the header read and the chain walk looks like a mismatch;
            // a mismatch that survives every attempt with a stable header is corruption.
            lastChange = !stable ? "jit_State changed while reading (" + h + " -> " + after + ")"
                    : total != h.szallmcarea ? "areas add up to " + total + " bytes, J->szallmcarea says "
                    + h.szallmcarea : rejected + " trace(s) failed validation";
            if (attempt == ATTEMPTS - 1 && stable) {
                if (total != h.szallmcarea) {
                    throw badChain(pid, lastChange + " (" + areas.size() + " areas)");
                }
                // stable header but some slots stay invalid: report them as rejected, keep the rest
                return snapshot(pid, g, h, vmstate, areas, traces, rejected);
            }
        }
        throw new JitReadException(Reason.UNSTABLE, "pid " + pid + " g 0x" + Long.toHexString(g) + ": no consistent "
                + "JIT state in " + ATTEMPTS + " attempts (" + lastChange + "); retry at the next sync");
    }

    private JitSnapshot snapshot(int pid, long g, Header h, int vmstate, List<McodeArea> areas,
                                 List<TraceInfo> traces, int rejected) {
        return new JitSnapshot(pid, g, System.nanoTime(), h.flags, h.state, vmstate, h.params, areas, h.szallmcarea,
                h.mcarea, h.mcbot, h.mctop, h.sizetrace, traces, rejected);
    }

    /** The main thread of a real VM is a thread object pointing back at g: cheap proof that g is a global_State. */
    private void checkMainThread(int pid, long g) throws JitReadException {
        readExactly(pid, g + l.gMainthref(), small, l.refSize(), "g->mainthref");
        long mainL = ref(small, 0, l.refSize());
        long back;
        try {
            back = globalOfThread(pid, mainL);
        } catch (JitReadException e) {
            if (e.reason() == Reason.NO_PROCESS || e.reason() == Reason.DENIED) {
                throw e;
            }
            throw new JitReadException(Reason.NOT_A_JIT_STATE, "0x" + Long.toHexString(g)
                    + " is not a global_State: its main thread " + e.getMessage());
        }
        if (back != g) {
            throw new JitReadException(Reason.NOT_A_JIT_STATE, "0x" + Long.toHexString(g) + " is not a global_State:"
                    + " its main thread 0x" + Long.toHexString(mainL) + " belongs to 0x" + Long.toHexString(back));
        }
    }

    private record Header(int flags, int state, long tracePtr, int sizetrace, int[] params, long mcarea, long mctop,
                          long mcbot, long szmcarea, long szallmcarea) {
        boolean sameShape(Header o) {
            return tracePtr == o.tracePtr && sizetrace == o.sizetrace && mcarea == o.mcarea
                    && szallmcarea == o.szallmcarea;
        }

        @Override
        public String toString() {
            return "mcarea=0x" + Long.toHexString(mcarea) + " szallmcarea=" + szallmcarea + " sizetrace=" + sizetrace;
        }
    }

    private Header parse(byte[] b, long g) throws JitReadException {
        int base = o.spanStart();
        int flags = i32(b, o.flags() - base);
        int state = i32(b, o.state() - base);
        long tracePtr = i64(b, o.trace() - base);
        long sizetrace = i32(b, o.sizetrace() - base) & 0xffffffffL;
        int[] params = new int[JitParam.COUNT];
        for (int i = 0; i < params.length; i++) {
            params[i] = i32(b, o.param() - base + 4 * i);
            if (params[i] < 0 || params[i] > MAX_PARAM) {
                throw notJit(g, "J->param[" + JitParam.values()[i] + "] = " + params[i]);
            }
        }
        if (params[JitParam.SIZEMCODE.ordinal()] < 1) {
            throw notJit(g, "J->param[SIZEMCODE] = 0");
        }
        if (sizetrace > MAX_SIZETRACE) {
            throw notJit(g, "J->sizetrace = " + sizetrace);
        }
        if (sizetrace > 0 && tracePtr == 0) {
            throw notJit(g, "J->trace is null with sizetrace " + sizetrace);
        }
        int m = o.mcarea() - base;
        Header h = new Header(flags, state, tracePtr, (int) sizetrace, params, i64(b, m),
                i64(b, m + JitOffsets.MCTOP), i64(b, m + JitOffsets.MCBOT), i64(b, m + JitOffsets.SZMCAREA),
                i64(b, m + JitOffsets.SZALLMCAREA));
        if (h.szallmcarea < 0 || h.szallmcarea > MAX_AREAS * MAX_AREA_BYTES) {
            throw notJit(g, "J->mcarea 0x" + Long.toHexString(h.mcarea) + " with J->szallmcarea " + h.szallmcarea);
        }
        if ((h.mcarea == 0) != (h.szallmcarea == 0)) {
            // a flush (lj_mcode_free) clears the area list and its byte count one after the other: a torn read
            throw new JitReadException(Reason.UNSTABLE, "g 0x" + Long.toHexString(g) + ": J->mcarea 0x"
                    + Long.toHexString(h.mcarea) + " with J->szallmcarea " + h.szallmcarea + " (mid-flush)");
        }
        return h;
    }

    private static JitReadException notJit(long g, String what) {
        return new JitReadException(Reason.NOT_A_JIT_STATE, "g 0x" + Long.toHexString(g) + ": " + what
                + " is impossible for LuaJIT 2.1 (wrong g, or a layout that does not fit this binary)");
    }

    private List<McodeArea> readAreas(int pid, Header h) throws JitReadException {
        List<McodeArea> areas = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (long a = h.mcarea; a != 0; ) {
            if (areas.size() == MAX_AREAS) {
                throw badChain(pid, "more than " + MAX_AREAS + " areas");
            }
            if ((a & (PAGE - 1)) != 0) {
                throw badChain(pid, "area 0x" + Long.toHexString(a) + " is not page aligned");
            }
            if (!seen.add(a)) {
                throw badChain(pid, "the chain loops back to area 0x" + Long.toHexString(a) + " after "
                        + areas.size() + " areas");
            }
            readExactly(pid, a, small, McodeArea.LINK_BYTES, "MCLink of an mcode area");
            long next = i64(small, 0);
            long size = i64(small, 8);
            if (size <= McodeArea.LINK_BYTES || size > MAX_AREA_BYTES || (size & (PAGE - 1)) != 0) {
                throw badChain(pid, "area 0x" + Long.toHexString(a) + " has size " + size);
            }
            areas.add(new McodeArea(a, size));
            a = next;
        }
        areas.sort(null);
        for (int i = 1; i < areas.size(); i++) {
            if (Long.compareUnsigned(areas.get(i - 1).end(), areas.get(i).start()) > 0) {
                throw badChain(pid, "areas " + areas.get(i - 1) + " and " + areas.get(i) + " overlap");
            }
        }
        return areas;
    }

    private static JitReadException badChain(int pid, String what) {
        return new JitReadException(Reason.BAD_AREA_CHAIN, "pid " + pid + ": malformed mcode area chain: " + what);
    }

    private int readTraces(int pid, Header h, List<McodeArea> areas, List<TraceInfo> out) throws JitReadException {
        int rs = l.refSize();
        int rejected = 0;
        byte[] chunk = new byte[Math.min(CHUNK, Math.max(rs, h.sizetrace * rs))];
        int perChunk = chunk.length / rs;
        for (int first = 0; first < h.sizetrace; first += perChunk) {
            int n = Math.min(perChunk, h.sizetrace - first);
            readExactly(pid, h.tracePtr + (long) first * rs, chunk, n * rs, "J->trace array");
            for (int i = 0; i < n; i++) {
                int traceno = first + i;
                long t = ref(chunk, i * rs, rs);
                if (traceno == 0 || t == 0) {
                    continue; // slot 0 is never used; null = free
                }
                TraceInfo ti = readTrace(pid, t, traceno, h.sizetrace, areas);
                if (ti == null) {
                    rejected++;
                } else {
                    out.add(ti);
                }
            }
        }
        return rejected;
    }

    private TraceInfo readTrace(int pid, long t, int traceno, int sizetrace, List<McodeArea> areas) {
        reads++;
        if (memory.read(pid, t, traceBuf, 0, traceBuf.length) != ReadStatus.OK) {
            return null;
        }
        byte[] b = traceBuf;
        if ((b[l.gcGct()] & 0xff) != LuajitLayout.GCT_TRACE || u16(b, l.tTraceno()) != traceno) {
            return null;
        }
        int root = u16(b, l.tRoot());
        long mcode = i64(b, l.tMcode());
        long szmcode = i32(b, l.tSzmcode()) & 0xffffffffL;
        if (root >= sizetrace || root == traceno || szmcode == 0 || !inSomeArea(areas, mcode, szmcode)) {
            return null;
        }
        return new TraceInfo(traceno, root, u16(b, l.tLink()), t, ref(b, l.tStartpt(), l.refSize()),
                ref(b, l.tStartpc(), l.refSize()), mcode, szmcode, u16(b, l.tSpadjust()));
    }

    private static boolean inSomeArea(List<McodeArea> areas, long mcode, long size) {
        for (McodeArea a : areas) {
            if (a.containsRange(mcode, size) && mcode - a.start() >= McodeArea.LINK_BYTES) {
                return true;
            }
        }
        return false;
    }

    private int readVmstate(int pid, long g) throws JitReadException {
        readExactly(pid, g + l.gVmstate(), small, 4, "g->vmstate");
        return i32(small, 0);
    }

    private void readExactly(int pid, long address, byte[] dst, int length, String what) throws JitReadException {
        reads++;
        ReadStatus s = memory.read(pid, address, dst, 0, length);
        switch (s) {
            case OK -> {
            }
            case NO_PROCESS -> throw new JitReadException(Reason.NO_PROCESS, "pid " + pid + " exited");
            case DENIED -> throw new JitReadException(Reason.DENIED, "not allowed to read pid " + pid
                    + " (needs CAP_SYS_PTRACE)");
            default -> throw new JitReadException(Reason.UNREADABLE, "pid " + pid + ": " + what + " at 0x"
                    + Long.toHexString(address) + " (" + length + " bytes) unreadable: " + s);
        }
    }

    static long ref(byte[] b, int off, int size) {
        return size == 8 ? i64(b, off) : i32(b, off) & 0xffffffffL;
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }

    static int i32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    static long i64(byte[] b, int off) {
        return (i32(b, off) & 0xffffffffL) | (long) i32(b, off + 4) << 32;
    }
}
