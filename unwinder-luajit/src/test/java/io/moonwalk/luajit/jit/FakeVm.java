package io.moonwalk.luajit.jit;

import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;

/**
 * A synthetic target address space holding one VM's JIT structures laid out as {@link LuajitLayout} says, for
 * the hostile-memory tests (the live tests cover the real thing). Anything not put is unmapped.
 */
final class FakeVm implements MemoryReader {
    final LuajitLayout l;
    final JitOffsets o;
    final long g = 0x10_0000_1000L;
    final long mainL = 0x10_0000_0000L;
    final long traceArray = 0x10_0010_0000L;
    private final TreeMap<Long, ByteBuffer> regions = new TreeMap<>();
    private int lastCount;
    long reads;

    FakeVm(LuajitLayout layout) {
        l = layout;
        o = JitOffsets.of(layout);
        ByteBuffer L = region(mainL, 0x100);
        L.put(l.gcGct(), (byte) LuajitLayout.GCT_THREAD);
        putRef(L, l.lGlref(), g);
        ByteBuffer gb = region(g, 0x2000);
        putRef(gb, l.gMainthref(), mainL);
        gb.putInt(o.flags(), 1);
        int[] defaults = {8000, 16000, 500, 100, 500, 3, 56, 10, 4, 4, 15, 3, 2, 64, 40960};
        for (int i = 0; i < defaults.length; i++) {
            gb.putInt(o.param() + 4 * i, defaults[i]);
        }
        gb.putInt(l.gVmstate(), -1);
    }

    ByteBuffer region(long address, int size) {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        regions.put(address, b);
        return b;
    }

    ByteBuffer gBytes() {
        return regions.get(g);
    }

    void putRef(ByteBuffer b, int off, long v) {
        if (l.refSize() == 8) {
            b.putLong(off, v);
        } else {
            b.putInt(off, (int) v);
        }
    }

    /** An area chain: areas[i] links to areas[i+1]; J->mcarea = areas[0]; szallmcarea = sum. */
    void areas(long size, long... starts) {
        long total = 0;
        for (int i = 0; i < starts.length; i++) {
            ByteBuffer a = region(starts[i], (int) Math.min(size, 4096));
            a.putLong(0, i + 1 < starts.length ? starts[i + 1] : 0);
            a.putLong(8, size);
            total += size;
        }
        gBytes().putLong(o.mcarea(), starts.length == 0 ? 0 : starts[0]);
        gBytes().putLong(o.mcarea() + JitOffsets.SZALLMCAREA, total);
    }

    /** Traces 1..n with mcode at the given addresses (szmcode bytes each); sizetrace = n + 1. */
    void traces(long szmcode, long... mcodes) {
        gBytes().putLong(o.trace(), traceArray);
        gBytes().putInt(o.sizetrace(), mcodes.length + 1);
        ByteBuffer arr = region(traceArray, (mcodes.length + 1) * l.refSize());
        for (int i = 0; i < mcodes.length; i++) {
            long t = 0x10_0020_0000L + i * 0x100L;
            putRef(arr, (i + 1) * l.refSize(), t);
            ByteBuffer tb = region(t, 0x80);
            tb.put(l.gcGct(), (byte) LuajitLayout.GCT_TRACE);
            tb.putShort(l.tTraceno(), (short) (i + 1));
            tb.putInt(l.tSzmcode(), (int) szmcode);
            tb.putLong(l.tMcode(), mcodes[i]);
            tb.putShort(l.tSpadjust(), (short) 16);
            putRef(tb, l.tStartpt(), 0x10_0030_0000L);
        }
    }

    @Override
    public ReadStatus read(int pid, long address, byte[] dst, int offset, int length) {
        reads++;
        lastCount = 0;
        Map.Entry<Long, ByteBuffer> e = regions.floorEntry(address);
        if (e == null || address - e.getKey() >= e.getValue().capacity()) {
            return ReadStatus.UNMAPPED;
        }
        int from = (int) (address - e.getKey());
        int n = Math.min(length, e.getValue().capacity() - from);
        e.getValue().get(from, dst, offset, n);
        lastCount = n;
        return n == length ? ReadStatus.OK : ReadStatus.PARTIAL;
    }

    @Override
    public int lastCount() {
        return lastCount;
    }
}
