package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The snapshot search and its checks on a GC64 trace laid out byte for byte as LuaJIT 2.1 lays it out (lj_jit.h,
 * lj_snap.c: two snapshots, the second with one inlined frame), and on hostile memory. Real traces are covered
 * end to end against jit.p by LuajitJitWalkIT.
 */
class TraceSnapshotReaderTest {
    private static final LuajitLayout L = KnownLayouts.OPENRESTY_GC64;
    private static final int PID = 7;
    private static final long TRACE = 0x10000;
    private static final long SNAP = 0x11000;
    private static final long SNAPMAP = 0x12000;
    private static final long IR = 0x13000;
    private static final long MCODE = 0x20000;
    private static final int SZMCODE = 0x200;
    private static final long BASE_PT = 0x30000;
    private static final long CALLEE_PT = 0x31000;
    private static final long CALLEE_FN = 0x32000;
    private static final int TRACENO = 5;

    /** A synthetic address space: byte regions at fixed addresses, anything else unmapped. */
    static final class Image implements MemoryReader {
        final TreeMap<Long, byte[]> regions = new TreeMap<>();
        private int last;

        ByteBuffer put(long address, int size) {
            byte[] b = new byte[size];
            regions.put(address, b);
            return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public ReadStatus read(int pid, long address, byte[] dst, int offset, int length) {
            last = 0;
            Map.Entry<Long, byte[]> e = regions.floorEntry(address);
            if (e == null || address - e.getKey() >= e.getValue().length) {
                return ReadStatus.UNMAPPED;
            }
            int from = (int) (address - e.getKey());
            int n = Math.min(length, e.getValue().length - from);
            System.arraycopy(e.getValue(), from, dst, offset, n);
            last = n;
            return n == length ? ReadStatus.OK : ReadStatus.PARTIAL;
        }

        @Override
        public int lastCount() {
            return last;
        }
    }

    /** Snapshot 0 at mcode 0 in the base function (pc 3); snapshot 1 at mcode 0x80: base called callee at 10. */
    private static Image trace(long calleeLinkPc) {
        Image m = new Image();
        ByteBuffer t = m.put(TRACE, 0x78);
        t.put(L.gcGct(), (byte) LuajitLayout.GCT_TRACE);
        t.putShort(L.gcGct() + 1, (short) 2); // nsnap
        t.putLong(L.tStartpt() - 0x20, IR);
        t.putInt(L.tStartpt() - 0x14, 6); // nsnapmap
        t.putLong(L.tStartpt() - 0x10, SNAP);
        t.putLong(L.tStartpt() - 0x8, SNAPMAP);
        t.putLong(L.tStartpt(), BASE_PT);
        t.putInt(L.tSzmcode(), SZMCODE);
        t.putLong(L.tMcode(), MCODE);
        t.putShort(L.tTraceno(), (short) TRACENO);
        ByteBuffer s = m.put(SNAP, 24);
        // SnapShot {mapofs u32, ref u16, mcofs u16, nslots, topslot, nent, count}
        s.putInt(0, 0).putShort(6, (short) 0).put(10, (byte) 0);
        s.putInt(12, 2).putShort(18, (short) 0x80).put(22, (byte) 2);
        ByteBuffer map = m.put(SNAPMAP, 6 * 4);
        long bc = BASE_PT + L.ptSize();
        long cbc = CALLEE_PT + L.ptSize();
        map.putLong(0, (bc + 3 * 4) << 8); // snapshot 0: no entries, pc = base bytecode 3
        map.putInt(8, 2 << 24 | 0x7ff0); // snapshot 1: slot 2 = the callee (KGC at ref 0x7ff0)
        map.putInt(12, 3 << 24 | TraceSnapshotReader.SNAP_FRAME | 0x7ff2); // slot 3 = its frame link (KNUM)
        map.putLong(16, (cbc + 4 * 4) << 8); // pc = callee bytecode 4
        ByteBuffer ir = m.put(IR + 0x7ff0L * 8, 32);
        ir.put(5, (byte) TraceSnapshotReader.IR_KGC).putLong(8, CALLEE_FN);
        ir.put(16 + 5, (byte) TraceSnapshotReader.IR_KNUM).putLong(24, calleeLinkPc);
        ByteBuffer fn = m.put(CALLEE_FN, 0x40);
        fn.put(L.gcGct(), (byte) LuajitLayout.GCT_FUNC).put(L.fnFfid(), (byte) 0).putLong(L.fnPc(), cbc);
        for (long pt : new long[] {BASE_PT, CALLEE_PT}) {
            ByteBuffer p = m.put(pt, L.ptSize());
            p.put(L.gcGct(), (byte) LuajitLayout.GCT_PROTO).putInt(L.ptSizebc(), 20);
        }
        return m;
    }

    private static long basePc(int index) {
        return BASE_PT + L.ptSize() + 4L * index;
    }

    @Test
    void thePcFindsTheLastSnapshotAtOrBeforeItAndItsInlinedFrame() {
        TraceSnapshotReader r = new TraceSnapshotReader(trace(basePc(11)), L);
        SnapshotResult before = r.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0x7f, BASE_PT);
        assertThat(before).isInstanceOf(SnapshotFrames.class);
        SnapshotFrames b = (SnapshotFrames) before;
        assertThat(b.snapshot()).isZero();
        assertThat(b.size()).isEqualTo(1);
        assertThat(b.pc(0)).isEqualTo(3);

        SnapshotFrames in = (SnapshotFrames) r.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0x80, BASE_PT);
        assertThat(in.snapshot()).isEqualTo(1);
        assertThat(in.inlined()).isEqualTo(1);
        assertThat(in.proto(0)).isEqualTo(BASE_PT);
        assertThat(in.pc(0)).as("the call instruction before the return PC").isEqualTo(10);
        assertThat(in.proto(1)).isEqualTo(CALLEE_PT);
        assertThat(in.pc(1)).isEqualTo(4);
        assertThat(r.exact()).isEqualTo(2);
        assertThat(r.inlinedExact()).isEqualTo(1);
    }

    /**
     * With the trace's code readable the snapshot is the next exit's: a loop body where snapshot 1's inlined frame
     * is reached by the exit branch after the PC, though the PC lies in snapshot 0's region; a branch inside the
     * trace (the loop) and one to bytes that are no exit stub are passed over.
     */
    @Test
    void thePcTakesTheSnapshotOfTheNextExitBranch() {
        Image m = trace(basePc(11));
        long stubs = 0x40000;
        ByteBuffer st = m.put(stubs, 8);
        st.put(0, (byte) 0x6a).put(1, (byte) 0).put(2, (byte) 0xeb).put(4, (byte) 0x6a).put(5, (byte) 1)
                .put(6, (byte) 0xeb);
        ByteBuffer notStub = m.put(0x50000, 4);
        notStub.put(0, (byte) 0x90);
        ByteBuffer code = m.put(MCODE, SZMCODE);
        // 0x10: jmp back into the trace; 0x20: jnz to a non-stub; 0x30: jne to exit 1's stub; 0x90: jnz exit 0
        code.put(0x10, (byte) 0xe9).putInt(0x11, (int) (MCODE - (MCODE + 0x15)));
        code.put(0x20, (byte) 0x0f).put(0x21, (byte) 0x85).putInt(0x22, (int) (0x50000 - (MCODE + 0x26)));
        code.put(0x30, (byte) 0x0f).put(0x31, (byte) 0x85).putInt(0x32, (int) (stubs + 4 - (MCODE + 0x36)));
        code.put(0x90, (byte) 0x0f).put(0x91, (byte) 0x85).putInt(0x92, (int) (stubs - (MCODE + 0x96)));
        TraceSnapshotReader r = new TraceSnapshotReader(m, L);
        SnapshotFrames early = (SnapshotFrames) r.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0x08, BASE_PT);
        assertThat(early.snapshot()).as("exit 1 is the next exit after 0x08").isEqualTo(1);
        assertThat(early.inlined()).isEqualTo(1);
        SnapshotFrames late = (SnapshotFrames) r.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0x84, BASE_PT);
        assertThat(late.snapshot()).as("exit 0 follows 0x84, in snapshot 1's region").isZero();
        SnapshotFrames end = (SnapshotFrames) r.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0xa0, BASE_PT);
        assertThat(end.snapshot()).as("no exit after 0xa0: the region's snapshot").isEqualTo(1);
        // the trace ends in a loop: short jle at 0x1f1 back to 0x1c0, jmp rel32 at 0x1f3 (patched to a side trace:
        // no stub), nop padding; the next exit of 0x1e4 is the first one from the loop's start (exit 1 at 0x1c8),
        // and a branch-like pair at 0x1e8 (back to 0x16a, before an exit 0 at 0x170) is not followed
        code.put(0x170, (byte) 0x0f).put(0x171, (byte) 0x85).putInt(0x172, (int) (stubs - (MCODE + 0x176)));
        code.put(0x1c8, (byte) 0x0f).put(0x1c9, (byte) 0x85).putInt(0x1ca, (int) (stubs + 4 - (MCODE + 0x1ce)));
        code.put(0x1e8, (byte) 0x7e).put(0x1e9, (byte) 0x80);
        code.put(0x1f1, (byte) 0x7e).put(0x1f2, (byte) (0x1c0 - 0x1f3));
        code.put(0x1f3, (byte) 0xe9).putInt(0x1f4, (int) (0x50000 - (MCODE + 0x1f8)));
        for (int i = 0x1f8; i < SZMCODE; i++) {
            code.put(i, (byte) 0x90);
        }
        TraceSnapshotReader looped = new TraceSnapshotReader(m, L);
        SnapshotFrames round = (SnapshotFrames) looped.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0x1e4, BASE_PT);
        assertThat(round.snapshot()).as("round the loop to exit 1").isEqualTo(1);
    }

    @Test
    void anotherTraceOrAChainThatDoesNotFitFallsBackCounted() {
        TraceSnapshotReader r = new TraceSnapshotReader(trace(basePc(11)), L);
        assertThat(r.frames(PID, TRACE, TRACENO + 1, BASE_PT, MCODE + 0x80, BASE_PT)).isEqualTo(SnapshotFallback.STALE);
        assertThat(r.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + SZMCODE, BASE_PT))
                .as("a PC past the trace's code").isEqualTo(SnapshotFallback.STALE);
        assertThat(r.frames(PID, 0, 0, 0, MCODE, BASE_PT)).isEqualTo(SnapshotFallback.NO_TRACE);
        assertThat(r.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0x80, CALLEE_PT))
                .as("the kernel's base frame runs another function").isEqualTo(SnapshotFallback.BASE_MISMATCH);
        TraceSnapshotReader pcall = new TraceSnapshotReader(trace(basePc(11) | 6), L);
        assertThat(pcall.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0x80, BASE_PT))
                .isEqualTo(SnapshotFallback.UNSUPPORTED_FRAME);
        assertThat(r.fallbacks()).containsEntry(SnapshotFallback.STALE, 2L)
                .containsEntry(SnapshotFallback.BASE_MISMATCH, 1L);
    }

    @Test
    void garbageNeverThrowsAndNeverNamesFrames() {
        Random rnd = new Random(13);
        for (int round = 0; round < 2000; round++) {
            Image m = trace(basePc(11));
            // scramble one region (or a few bytes of it): every read must stay bounded and checked
            long[] keys = m.regions.keySet().stream().mapToLong(Long::longValue).toArray();
            byte[] region = m.regions.get(keys[rnd.nextInt(keys.length)]);
            if (rnd.nextBoolean()) {
                rnd.nextBytes(region);
            } else {
                for (int k = 0; k < 3; k++) {
                    region[rnd.nextInt(region.length)] = (byte) rnd.nextInt();
                }
            }
            TraceSnapshotReader r = new TraceSnapshotReader(m, L);
            SnapshotResult res = r.frames(PID, TRACE, TRACENO, BASE_PT, MCODE + 0x80, BASE_PT);
            if (res instanceof SnapshotFrames f) {
                // whatever survived the checks names the base frame and PCs inside each function's bytecode
                assertThat(f.proto(0)).isEqualTo(BASE_PT);
                for (int i = 0; i < f.size(); i++) {
                    assertThat(f.pc(i)).isBetween(0, 19);
                }
            }
        }
    }
}
