package io.moonwalk.luajit.proto;

import java.util.Arrays;

/**
 * One GCproto as read from a target process and validated by {@link ProtoReader}: the header values,
 * bytecode, line table and debug names. Immutable except for the memo of constant strings, which
 * {@link ProtoReader#kgcString} fills on demand (constants are immutable in the target, so the memo never
 * changes a value once set).
 */
public final class ProtoInfo implements ProtoResult {
    private static final String[] VARNAMES = {null, "(for index)", "(for limit)", "(for step)", "(for generator)",
            "(for state)", "(for control)"};

    private final long address;
    private final long fingerprint;
    private final String chunkname;
    private final int firstline;
    private final int numline;
    private final int numparams;
    private final int framesize;
    private final boolean vararg;
    private final int[] bytecode;
    private final int[] lineinfo;
    private final String[] uvNames;
    private final byte[] varinfo;
    private final long[] kgcRefs;
    private final String[] kgcStrings;
    private final boolean[] kgcResolved;

    ProtoInfo(long address, long fingerprint, String chunkname, int firstline, int numline, int numparams,
              int framesize, boolean vararg, int[] bytecode, int[] lineinfo, String[] uvNames, byte[] varinfo,
              long[] kgcRefs) {
        this.address = address;
        this.fingerprint = fingerprint;
        this.chunkname = chunkname;
        this.firstline = firstline;
        this.numline = numline;
        this.numparams = numparams;
        this.framesize = framesize;
        this.vararg = vararg;
        this.bytecode = bytecode;
        this.lineinfo = lineinfo;
        this.uvNames = uvNames;
        this.varinfo = varinfo;
        this.kgcRefs = kgcRefs;
        this.kgcStrings = new String[kgcRefs.length];
        this.kgcResolved = new boolean[kgcRefs.length];
    }

    /** Address of the GCproto in the target. */
    public long address() {
        return address;
    }

    public long fingerprint() {
        return fingerprint;
    }

    /** The raw chunk name: {@code @path}, {@code =name}, or the source text of an unnamed string chunk. */
    public String chunkname() {
        return chunkname;
    }

    /** Line of the {@code function} keyword; 0 for a main chunk. */
    public int firstline() {
        return firstline;
    }

    public int numline() {
        return numline;
    }

    public int numparams() {
        return numparams;
    }

    public int framesize() {
        return framesize;
    }

    public boolean isVararg() {
        return vararg;
    }

    public boolean isMainChunk() {
        return firstline == 0;
    }

    /** Number of instructions including the function header at pc 0. */
    public int sizebc() {
        return bytecode.length;
    }

    /** Instruction at {@code pc} as read (the JIT may have patched headers and loops). */
    public int instruction(int pc) {
        return bytecode[pc];
    }

    public int[] bytecode() {
        return bytecode.clone();
    }

    /** Whether line and variable info is present (absent in bytecode saved with {@code luajit -b -s}). */
    public boolean hasDebugInfo() {
        return lineinfo != null;
    }

    /**
     * Source line of instruction {@code pc} as LuaJIT's {@code lj_debug_line} computes it: pc 0 is
     * {@code firstline}, pc == sizebc is the last line, otherwise firstline + delta; 0 without line info or for
     * a pc out of range.
     */
    public int line(int pc) {
        if (lineinfo == null || pc < 0 || pc > bytecode.length) {
            return 0;
        }
        if (pc == bytecode.length) {
            return firstline + numline;
        }
        if (pc == 0) {
            return firstline;
        }
        return firstline + lineinfo[pc - 1];
    }

    public int upvalueCount() {
        return uvNames == null ? 0 : uvNames.length;
    }

    /** Name of upvalue {@code i}, or null without debug info. */
    public String upvalueName(int i) {
        return uvNames != null && i >= 0 && i < uvNames.length ? uvNames[i] : null;
    }

    /**
     * Name of the local variable living in {@code slot} at {@code pc} (LuaJIT's {@code debug_varname}): the
     * k-th variable whose range covers pc occupies slot k. Null when none or without debug info.
     */
    public String localName(int pc, int slot) {
        if (varinfo == null) {
            return null;
        }
        byte[] v = varinfo;
        int p = 0;
        long lastpc = 0;
        while (p < v.length) {
            int nameStart = p;
            int vn = v[p] & 0xff;
            if (vn < VARNAMES.length) {
                if (vn == 0) {
                    return null;
                }
            } else {
                while (p < v.length && v[p] != 0) {
                    p++;
                }
            }
            int nameEnd = p;
            p++;
            long[] pos = {p};
            long startpc = lastpc + uleb(v, pos);
            lastpc = startpc;
            if (startpc > pc) {
                return null;
            }
            long endpc = startpc + uleb(v, pos);
            p = (int) pos[0];
            if (p > v.length) {
                return null;
            }
            if (pc < endpc && slot-- == 0) {
                return vn < VARNAMES.length ? VARNAMES[vn] : new String(v, nameStart, nameEnd - nameStart,
                        java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    /** Reads one ULEB128 at pos[0], advancing it; at most 5 bytes (32-bit values) and never past the array. */
    static long uleb(byte[] v, long[] pos) {
        int p = (int) pos[0];
        long value = 0;
        int shift = 0;
        while (p < v.length && shift < 35) {
            int b = v[p++] & 0xff;
            value |= (long) (b & 0x7f) << shift;
            shift += 7;
            if (b < 0x80) {
                pos[0] = p;
                return value;
            }
        }
        pos[0] = v.length + 1; // malformed: makes the caller stop
        return 0;
    }

    /** Number of GC constants (strings, child protos, tables, cdata). */
    public int kgcCount() {
        return kgcRefs.length;
    }

    /** The GCRef of constant {@code kgc[~d]}, i.e. operand D (or C) of GGET/TGETS; 0 when out of range. */
    public long kgcRef(int d) {
        return d >= 0 && d < kgcRefs.length ? kgcRefs[d] : 0;
    }

    String kgcMemo(int d) {
        return kgcStrings[d];
    }

    boolean kgcMemoized(int d) {
        return kgcResolved[d];
    }

    void kgcMemo(int d, String s) {
        kgcStrings[d] = s;
        kgcResolved[d] = true;
    }

    @Override
    public String toString() {
        return "ProtoInfo[" + Long.toHexString(address) + " " + chunkname + ":" + firstline + "+" + numline
                + " sizebc=" + bytecode.length + " fp=" + Long.toHexString(fingerprint) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProtoInfo p && p.address == address && p.fingerprint == fingerprint
                && Arrays.equals(p.bytecode, bytecode) && p.chunkname.equals(chunkname);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(address) * 31 + Long.hashCode(fingerprint);
    }
}
