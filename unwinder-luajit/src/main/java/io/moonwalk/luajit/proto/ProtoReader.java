package io.moonwalk.luajit.proto;

import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads GCprotos out of live processes with every validity check listed in docs/luajit-walk.md ("Reading prototypes after the sample"), and caches them
 * by (pid, proto address, fingerprint) in a bounded LRU. Target memory is hostile: every failure is a
 * {@link ProtoFailure} constant and a counter, never an exception, and every size read from the target is
 * bounded before it is used.
 *
 * <p>Not thread-safe (it owns scratch buffers and its {@link MemoryReader} usually is not thread-safe either);
 * use one per symbolizing thread.
 */
public final class ProtoReader {
    /** Largest proto allocation we read; larger ones are refused as {@link ProtoFailure#BAD_SIZES}. */
    public static final int MAX_PROTO_BYTES = 4 << 20;
    /** Bytes of a chunk name kept; the rest is checked (terminator) but not read. */
    public static final int MAX_CHUNKNAME_BYTES = 4096;
    /** Constant strings longer than this are not used as names. */
    public static final int MAX_KGC_STRING_BYTES = 1024;
    public static final int DEFAULT_CACHE_ENTRIES = 8192;
    private static final int MAX_SIZEBC = 1 << 26;
    private static final int MAX_LINE = 0x7fffff00;
    private static final int CHUNK = 1 << 16;

    private final MemoryReader memory;
    private final LuajitLayout l;
    private final BytecodeSet bc;
    private final int capacity;
    private final byte[] header;
    private final byte[] word = new byte[8];
    private final byte[] strBuf;
    private final LinkedHashMap<Key, ProtoInfo> cache;
    private long hits;
    private long misses;
    private long invalid;
    private long stale;
    private long unreadable;
    private long evictions;

    private record Key(int pid, long pt, long fingerprint) {
    }

    /** Counters since creation, and the cache fill. */
    public record Stats(long hits, long misses, long invalid, long stale, long unreadable, long evictions,
                        int size, int capacity) {
    }

    public ProtoReader(MemoryReader memory, LuajitLayout layout, BytecodeSet bytecode) {
        this(memory, layout, bytecode, DEFAULT_CACHE_ENTRIES);
    }

    public ProtoReader(MemoryReader memory, LuajitLayout layout, BytecodeSet bytecode, int cacheEntries) {
        if (cacheEntries < 1) {
            throw new IllegalArgumentException("proto cache needs at least one entry, got " + cacheEntries);
        }
        this.memory = memory;
        this.l = layout;
        this.bc = bytecode;
        this.capacity = cacheEntries;
        this.header = new byte[layout.ptSize()];
        this.strBuf = new byte[layout.strHeader() + MAX_CHUNKNAME_BYTES + 1];
        this.cache = new LinkedHashMap<>(Math.min(cacheEntries, 1024) * 2, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, ProtoInfo> eldest) {
                if (size() > capacity) {
                    evictions++;
                    return true;
                }
                return false;
            }
        };
    }

    public LuajitLayout layout() {
        return l;
    }

    public BytecodeSet bytecodeSet() {
        return bc;
    }

    /**
     * The proto a sample saw at {@code pt} with {@code fingerprint} (as computed by the kernel walker). A cached
     * entry answers directly; otherwise the proto is read, and if its header no longer has that fingerprint
     * (after one re-read) the answer is {@link ProtoFailure#STALE}, never another proto's name.
     */
    public ProtoResult lookup(int pid, long pt, long fingerprint) {
        Key key = new Key(pid, pt, fingerprint);
        ProtoInfo hit = cache.get(key);
        if (hit != null) {
            hits++;
            return hit;
        }
        misses++;
        ProtoResult r = readChecked(pid, pt, fingerprint);
        if (r instanceof ProtoInfo info) {
            cache.put(key, info);
        }
        return r;
    }

    /** Reads and validates the proto at {@code pt} without a fingerprint to compare (and without caching). */
    public ProtoResult read(int pid, long pt) {
        return readChecked(pid, pt, 0);
    }

    /**
     * The fingerprint of what is at {@code pt} now (what the kernel would compute), or 0 if the header cannot
     * be read.
     */
    public long currentFingerprint(int pid, long pt) {
        return memory.read(pid, pt, header, 0, header.length) == ReadStatus.OK
                ? ProtoFingerprint.fingerprint(header, pt, l) : 0;
    }

    /**
     * The proto address of the Lua function object at {@code fn} ({@code GCfuncL.pc - sizeof(GCproto)}), or 0
     * if {@code fn} is not readable or not a Lua function.
     */
    public long protoOfFunction(int pid, long fn) {
        byte[] f = new byte[l.fnPc() + l.refSize()];
        if (memory.read(pid, fn, f, 0, f.length) != ReadStatus.OK) {
            return 0;
        }
        if ((f[l.gcGct()] & 0xff) != LuajitLayout.GCT_FUNC || f[l.fnFfid()] != 0) {
            return 0;
        }
        long pc = ProtoFingerprint.ref(f, l.fnPc(), l.refSize());
        return pc > l.ptSize() ? pc - l.ptSize() : 0;
    }

    /** Fast-function id of the function object at {@code fn} (0 = Lua, 1 = plain C), or -1 if unreadable. */
    public int ffidOfFunction(int pid, long fn) {
        byte[] f = new byte[l.fnFfid() + 1];
        if (memory.read(pid, fn, f, 0, f.length) != ReadStatus.OK
                || (f[l.gcGct()] & 0xff) != LuajitLayout.GCT_FUNC) {
            return -1;
        }
        return f[l.fnFfid()] & 0xff;
    }

    /**
     * The string constant {@code kgc[~d]} of {@code proto}, read on first use and memoized in the proto; null if
     * the constant is not a sane string (another GC type, too long, unterminated, not UTF-8) or unreadable.
     */
    public String kgcString(int pid, ProtoInfo proto, int d) {
        if (d < 0 || d >= proto.kgcCount()) {
            return null;
        }
        if (proto.kgcMemoized(d)) {
            return proto.kgcMemo(d);
        }
        String s = readString(pid, proto.kgcRef(d), MAX_KGC_STRING_BYTES, false);
        proto.kgcMemo(d, s);
        return s;
    }

    /** Drops every cached proto of {@code pid} (call on process exit). */
    public void forgetPid(int pid) {
        for (Iterator<Key> it = cache.keySet().iterator(); it.hasNext(); ) {
            if (it.next().pid() == pid) {
                it.remove();
            }
        }
    }

    public Stats stats() {
        return new Stats(hits, misses, invalid, stale, unreadable, evictions, cache.size(), capacity);
    }

    private ProtoResult fail(ProtoFailure f) {
        switch (f) {
            case STALE -> stale++;
            case UNREADABLE, PROCESS_GONE -> unreadable++;
            default -> invalid++;
        }
        return f;
    }

    private ProtoResult readFailure(ReadStatus s) {
        return fail(s == ReadStatus.NO_PROCESS ? ProtoFailure.PROCESS_GONE : ProtoFailure.UNREADABLE);
    }

    private ProtoResult readChecked(int pid, long pt, long expected) {
        if (pt == 0 || (pt & 3) != 0) {
            return fail(ProtoFailure.BAD_LAYOUT);
        }
        ReadStatus s = memory.read(pid, pt, header, 0, header.length);
        if (s != ReadStatus.OK) {
            return readFailure(s);
        }
        if (expected != 0 && ProtoFingerprint.fingerprint(header, pt, l) != expected) {
            // one re-read: the sample may have raced with the header being written
            s = memory.read(pid, pt, header, 0, header.length);
            if (s != ReadStatus.OK) {
                return readFailure(s);
            }
            if (ProtoFingerprint.fingerprint(header, pt, l) != expected) {
                return fail(ProtoFailure.STALE);
            }
        }
        ProtoFailure bad = checkHeader(header, pt);
        if (bad != null) {
            return fail(bad);
        }
        int sizept = (int) ProtoFingerprint.u32(header, l.ptSizept());
        byte[] all = new byte[sizept];
        for (int off = 0; off < sizept; off += CHUNK) {
            s = memory.read(pid, pt + off, all, off, Math.min(CHUNK, sizept - off));
            if (s != ReadStatus.OK) {
                return readFailure(s);
            }
        }
        long fp = ProtoFingerprint.fingerprint(all, pt, l);
        if (fp != ProtoFingerprint.fingerprint(header, pt, l)) {
            // changed between the header read and the full read: freed and reused under us
            return fail(ProtoFailure.STALE);
        }
        bad = checkHeader(all, pt);
        if (bad != null) {
            return fail(bad);
        }
        return parse(pid, pt, fp, all);
    }

    /** Header-only checks: type, sizes, computed positions of k/uv/lineinfo/uvinfo/varinfo, line ranges. */
    private ProtoFailure checkHeader(byte[] h, long pt) {
        if ((h[l.gcGct()] & 0xff) != LuajitLayout.GCT_PROTO) {
            return ProtoFailure.BAD_TYPE;
        }
        long sizebc = ProtoFingerprint.u32(h, l.ptSizebc());
        long sizept = ProtoFingerprint.u32(h, l.ptSizept());
        long sizekgc = ProtoFingerprint.u32(h, l.ptSizekgc());
        long sizekn = ProtoFingerprint.u32(h, l.ptSizekn());
        long sizeuv = ProtoFingerprint.u8(h, l.ptSizeuv());
        if (sizebc < 1 || sizebc > MAX_SIZEBC || sizept > MAX_PROTO_BYTES || sizept < l.ptSize() + 4 * sizebc
                || sizekgc > MAX_PROTO_BYTES || sizekn > MAX_PROTO_BYTES) {
            return ProtoFailure.BAD_SIZES;
        }
        int firstline = (int) ProtoFingerprint.u32(h, l.ptFirstline());
        int numline = (int) ProtoFingerprint.u32(h, l.ptNumline());
        if (firstline < 0 || numline < 0 || (long) firstline + numline > MAX_LINE) {
            return ProtoFailure.BAD_LINES;
        }
        int ref = l.refSize();
        long ofsk = align8(l.ptSize() + 4 * sizebc + ref * sizekgc);
        long ofsuv = ofsk + 8 * sizekn;
        long ofsdbg = ofsuv + 2 * ((sizeuv + 1) & ~1L);
        if (ofsdbg > sizept) {
            return ProtoFailure.BAD_SIZES;
        }
        if (ProtoFingerprint.ref(h, l.ptK(), ref) != mask(pt + ofsk)
                || ProtoFingerprint.ref(h, l.ptUv(), ref) != mask(pt + ofsuv)) {
            return ProtoFailure.BAD_LAYOUT;
        }
        long lineinfo = ProtoFingerprint.ref(h, l.ptLineinfo(), ref);
        long uvinfo = ProtoFingerprint.ref(h, l.ptUvinfo(), ref);
        long varinfo = ProtoFingerprint.ref(h, l.ptVarinfo(), ref);
        if (lineinfo == 0) {
            // stripped bytecode: no debug info at all, nothing after the upvalue array
            return uvinfo == 0 && varinfo == 0 && ofsdbg == sizept ? null : ProtoFailure.BAD_LAYOUT;
        }
        long uvinfoOfs = ofsdbg + lineSize(numline) * (sizebc - 1);
        if (lineinfo != mask(pt + ofsdbg) || uvinfo != mask(pt + uvinfoOfs)
                || varinfo - uvinfo < sizeuv || varinfo - pt >= sizept || varinfo < uvinfo) {
            return ProtoFailure.BAD_LAYOUT;
        }
        return null;
    }

    private ProtoResult parse(int pid, long pt, long fp, byte[] all) {
        int ref = l.refSize();
        int sizebc = (int) ProtoFingerprint.u32(all, l.ptSizebc());
        int sizept = all.length;
        int sizekgc = (int) ProtoFingerprint.u32(all, l.ptSizekgc());
        int sizeuv = (int) ProtoFingerprint.u8(all, l.ptSizeuv());
        int firstline = (int) ProtoFingerprint.u32(all, l.ptFirstline());
        int numline = (int) ProtoFingerprint.u32(all, l.ptNumline());
        int[] code = new int[sizebc];
        for (int i = 0; i < sizebc; i++) {
            code[i] = (int) ProtoFingerprint.u32(all, l.ptSize() + 4 * i);
        }
        if (!bc.isLuaFunctionHeader(BytecodeSet.op(code[0]))) {
            return fail(ProtoFailure.BAD_HEADER_OP);
        }
        int ofsk = (int) (ProtoFingerprint.ref(all, l.ptK(), ref) - pt);
        long[] kgc = new long[sizekgc];
        for (int d = 0; d < sizekgc; d++) {
            kgc[d] = ProtoFingerprint.ref(all, ofsk - (d + 1) * ref, ref);
        }
        int[] lines = null;
        String[] uvNames = null;
        byte[] varinfo = null;
        long lineinfo = ProtoFingerprint.ref(all, l.ptLineinfo(), ref);
        if (lineinfo != 0) {
            int li = (int) (lineinfo - pt);
            int es = lineSize(numline);
            lines = new int[sizebc - 1];
            for (int i = 0; i < lines.length; i++) {
                int o = li + es * i;
                long delta = es == 1 ? ProtoFingerprint.u8(all, o)
                        : es == 2 ? ((all[o] & 0xff) | (all[o + 1] & 0xff) << 8) : ProtoFingerprint.u32(all, o);
                if (delta > numline) {
                    return fail(ProtoFailure.BAD_LINES);
                }
                lines[i] = (int) delta;
            }
            int p = (int) (ProtoFingerprint.ref(all, l.ptUvinfo(), ref) - pt);
            int vi = (int) (ProtoFingerprint.ref(all, l.ptVarinfo(), ref) - pt);
            uvNames = new String[sizeuv];
            for (int i = 0; i < sizeuv; i++) {
                int start = p;
                while (p < vi && all[p] != 0) {
                    p++;
                }
                if (p >= vi || !Utf8.isValid(all, start, p, false)) {
                    return fail(ProtoFailure.BAD_LAYOUT);
                }
                uvNames[i] = new String(all, start, p - start, StandardCharsets.UTF_8);
                p++;
            }
            if (p != vi || !varinfoWellFormed(all, vi, sizept, sizebc)) {
                return fail(ProtoFailure.BAD_LAYOUT);
            }
            varinfo = java.util.Arrays.copyOfRange(all, vi, sizept);
        }
        String chunk = readString(pid, ProtoFingerprint.ref(all, l.ptChunkname(), ref), MAX_CHUNKNAME_BYTES, true);
        if (chunk == null) {
            return fail(ProtoFailure.BAD_CHUNKNAME);
        }
        boolean vararg = (ProtoFingerprint.u8(all, l.ptFlags()) & 0x02) != 0;
        return new ProtoInfo(pt, fp, chunk, firstline, numline, (int) ProtoFingerprint.u8(all, l.ptNumparams()),
                (int) ProtoFingerprint.u8(all, l.ptFramesize()), vararg, code, lines, uvNames, varinfo, kgc);
    }

    /** Walks the varinfo entries to the terminator without leaving the allocation; pcs stay within sizebc. */
    private static boolean varinfoWellFormed(byte[] a, int p, int end, int sizebc) {
        long lastpc = 0;
        long[] pos = new long[1];
        while (p < end) {
            int vn = a[p] & 0xff;
            if (vn == 0) {
                return true;
            }
            if (vn >= 7) {
                int start = p;
                while (p < end && a[p] != 0) {
                    p++;
                }
                if (p >= end || !Utf8.isValid(a, start, p, false)) {
                    return false;
                }
            }
            pos[0] = p + 1;
            byte[] view = a;
            long start = lastpc + ProtoInfo.uleb(view, pos);
            long len = ProtoInfo.uleb(view, pos);
            if (pos[0] > end || start > sizebc || start + len > sizebc + 1L) {
                return false;
            }
            lastpc = start;
            p = (int) pos[0];
        }
        return false;
    }

    /**
     * Reads a GCstr at {@code str}: type must be string, length below 2^31-256, the byte after the data NUL,
     * no NUL inside, valid UTF-8. Longer than {@code cap}: kept truncated to cap if {@code allowTruncate}, else
     * refused.
     */
    private String readString(int pid, long str, int cap, boolean allowTruncate) {
        if (str == 0) {
            return null;
        }
        int hdr = l.strHeader();
        ReadStatus s = memory.read(pid, str, strBuf, 0, hdr);
        if (s != ReadStatus.OK || (strBuf[l.gcGct()] & 0xff) != LuajitLayout.GCT_STR) {
            return null;
        }
        long len = ProtoFingerprint.u32(strBuf, l.strLen());
        if (len >= 0x7fffff00L) {
            return null;
        }
        boolean truncated = len > cap;
        if (truncated && !allowTruncate) {
            return null;
        }
        int keep = (int) Math.min(len, cap);
        if (truncated) {
            if (memory.read(pid, str + hdr, strBuf, hdr, keep) != ReadStatus.OK
                    || memory.read(pid, str + hdr + len, word, 0, 1) != ReadStatus.OK || word[0] != 0) {
                return null;
            }
        } else if (memory.read(pid, str + hdr, strBuf, hdr, keep + 1) != ReadStatus.OK || strBuf[hdr + keep] != 0) {
            return null;
        }
        for (int i = hdr; i < hdr + keep; i++) {
            if (strBuf[i] == 0) {
                return null;
            }
        }
        if (!Utf8.isValid(strBuf, hdr, hdr + keep, truncated)) {
            return null;
        }
        return new String(strBuf, hdr, keep, StandardCharsets.UTF_8);
    }

    private long mask(long address) {
        return l.refSize() == 8 ? address : address & 0xffff_ffffL;
    }

    private static long align8(long v) {
        return (v + 7) & ~7L;
    }

    /** lineinfo element size by numline: u8 below 256 lines, u16 below 65536, else u32. */
    static int lineSize(long numline) {
        return numline < 256 ? 1 : numline < 65536 ? 2 : 4;
    }
}
