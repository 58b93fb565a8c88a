package io.moonwalk.luajit.abort;

import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.luajit.naming.ChunkNames;
import io.moonwalk.luajit.proto.BytecodeSet;
import io.moonwalk.luajit.proto.ProtoInfo;
import io.moonwalk.luajit.proto.ProtoReader;
import io.moonwalk.luajit.proto.ProtoResult;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;

/**
 * Names the start bytecode of an aborted trace as {@code jit.v} does, {@code chunk:line}, with its function as a Lua
 * frame whose caller is unknown is named ({@link SiteName}). The penalty cache holds
 * only the instruction's address; its proto is found by walking back from it to the proto header that precedes
 * every proto's bytecode (a GC object of type proto whose bytecode covers the address), then read and validated
 * by {@link ProtoReader} — a candidate that does not validate is skipped, so a stray byte never names a site.
 * Bounded: at most {@link #MAX_BYTECODES} instructions back and {@link #MAX_CANDIDATES} headers read in full
 * ({@code [unknown site]} beyond). Not thread-safe.
 */
public final class SiteNamer {
    /** Longest distance walked back from a site to its proto's header, in instructions. */
    static final int MAX_BYTECODES = 1 << 16;
    private static final int BLOCK = 4096;
    /** Candidate headers read in full per site at most: each costs a few reads. */
    static final int MAX_CANDIDATES = 64;
    /** LuaJIT's limit on instructions per function (LJ_MAX_BCINS). */
    private static final long MAX_SIZEBC = 1 << 26;
    public static final String UNKNOWN = SiteName.UNKNOWN.display();

    private final MemoryReader memory;
    private final LuajitLayout l;
    private final ProtoReader protos;
    private final byte[] block = new byte[BLOCK];

    public SiteNamer(MemoryReader memory, LuajitLayout layout) {
        this.memory = memory;
        this.l = layout;
        this.protos = new ProtoReader(memory, layout, BytecodeSet.LUAJIT_2_1, 256);
    }

    /** {@code function (chunk:line)} of the instruction at {@code pc} ({@link SiteName#display}), or {@link #UNKNOWN}. */
    public String name(int pid, long pc) {
        return site(pid, pc).display();
    }

    /** The function, chunk and line of the instruction at {@code pc}, or {@link SiteName#UNKNOWN}. */
    public SiteName site(int pid, long pc) {
        // candidate headers: pt = pc - ptSize - 4k for k = 0, 1, ...; the header's gct byte says "proto"
        long lowest = pc - l.ptSize() - 4L * MAX_BYTECODES;
        int candidates = 0;
        for (long end = pc - l.ptSize() + 16; end > lowest && end > BLOCK; end -= BLOCK - 16) {
            long start = end - BLOCK;
            if (memory.read(pid, start, block, 0, BLOCK) != ReadStatus.OK) {
                return SiteName.UNKNOWN;
            }
            // pt values in this block, highest first (pt is 4-aligned like the bytecode after it)
            for (long pt = (end - 16) & ~3L; pt >= start; pt -= 4) {
                int off = (int) (pt - start) + l.gcGct();
                if (off >= BLOCK || pt > pc - l.ptSize() || (block[off] & 0xff) != LuajitLayout.GCT_PROTO) {
                    continue;
                }
                // the header's sizebc must cover pc: checked in the block, before any further read
                long index = (pc - (pt + l.ptSize())) / 4;
                long sizebc = u32(block, (int) (pt - start) + l.ptSizebc());
                if (sizebc <= index || sizebc > MAX_SIZEBC) {
                    continue;
                }
                if (++candidates > MAX_CANDIDATES) {
                    return SiteName.UNKNOWN;
                }
                ProtoResult r = protos.read(pid, pt);
                if (r instanceof ProtoInfo p) {
                    if (index < p.sizebc()) {
                        String chunk = ChunkNames.display(p.chunkname());
                        // as a Lua frame whose caller gives no name is labelled (LuaFrameNamer)
                        String function = p.firstline() == 0 ? "main chunk"
                                : "function <" + chunk + ":" + p.firstline() + ">";
                        return new SiteName(function, chunk, p.line((int) index), p.firstline());
                    }
                }
            }
        }
        return SiteName.UNKNOWN;
    }

    private static long u32(byte[] b, int off) {
        return (b[off] & 0xffL) | (b[off + 1] & 0xffL) << 8 | (b[off + 2] & 0xffL) << 16 | (b[off + 3] & 0xffL) << 24;
    }
}
