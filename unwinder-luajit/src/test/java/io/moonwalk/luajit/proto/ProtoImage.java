package io.moonwalk.luajit.proto;

import io.moonwalk.luajit.layout.LuajitLayout;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a GCproto allocation byte for byte the way LuaJIT's parser lays it out (the allocation layout in docs/luajit-walk.md, "Reading prototypes after the sample"),
 * for any layout, plus the GCstr objects it points to: the synthetic images of the parsing tests.
 */
final class ProtoImage {
    final LuajitLayout l;
    long pt = 0x10_0000;
    long strBase = 0x20_0000;
    int firstline = 10;
    int numline = 5;
    int numparams = 1;
    int framesize = 4;
    int flags = 0;
    String chunkname = "@/srv/app.lua";
    int[] bytecode;
    int[] lineDeltas; // per pc 1..sizebc-1; null = stripped
    List<String> kgcStrings = new ArrayList<>();
    int sizekn = 1;
    List<String> uvNames = new ArrayList<>();
    /** varinfo entries: name (or "\u0001".."\u0006"), startpc, endpc, in order. */
    List<Object[]> vars = new ArrayList<>();

    ProtoImage(LuajitLayout l, BytecodeSet bc) {
        this.l = l;
        bytecode = new int[] {bc.funcf | 3 << 8, bc.op("RET0") | 0 << 8 | 1 << 16};
        lineDeltas = new int[] {1};
    }

    private long stringAddress(int i) {
        return strBase + i * 0x100000L;
    }

    byte[] gcstr(String s) {
        byte[] data = s.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(l.strHeader() + data.length + 1).order(ByteOrder.LITTLE_ENDIAN);
        b.put(l.gcGct(), (byte) LuajitLayout.GCT_STR);
        b.putInt(l.strLen(), data.length);
        b.put(l.strHeader(), data);
        return b.array();
    }

    static int lineSize(int numline) {
        return numline < 256 ? 1 : numline < 65536 ? 2 : 4;
    }

    /** Installs the proto and its strings in {@code mem}; returns the proto bytes. */
    byte[] install(ImageMemory mem) {
        int ref = l.refSize();
        int sizebc = bytecode.length;
        int sizekgc = kgcStrings.size() + 1; // + the chunkname? no: one extra non-string constant slot
        long ofsk = (l.ptSize() + 4L * sizebc + (long) ref * sizekgc + 7) & ~7L;
        long ofsuv = ofsk + 8L * sizekn;
        long ofsli = ofsuv + 2L * ((uvNames.size() + 1) & ~1);
        ByteArrayOutputStream dbg = new ByteArrayOutputStream();
        long ofsuvinfo = 0;
        long ofsvar = 0;
        if (lineDeltas != null) {
            int es = lineSize(numline);
            for (int d : lineDeltas) {
                for (int k = 0; k < es; k++) {
                    dbg.write(d >>> (8 * k));
                }
            }
            ofsuvinfo = ofsli + dbg.size();
            for (String u : uvNames) {
                dbg.writeBytes(u.getBytes(StandardCharsets.UTF_8));
                dbg.write(0);
            }
            ofsvar = ofsli + dbg.size();
            int last = 0;
            for (Object[] v : vars) {
                String name = (String) v[0];
                dbg.writeBytes(name.getBytes(StandardCharsets.UTF_8));
                if (name.charAt(0) >= 7) {
                    dbg.write(0);
                }
                int start = (Integer) v[1];
                uleb(dbg, start - last);
                uleb(dbg, (Integer) v[2] - start);
                last = start;
            }
            dbg.write(0);
        }
        int sizept = (int) (ofsli + dbg.size());
        ByteBuffer b = ByteBuffer.allocate(sizept).order(ByteOrder.LITTLE_ENDIAN);
        b.put(l.gcGct(), (byte) LuajitLayout.GCT_PROTO);
        b.put(l.ptNumparams(), (byte) numparams);
        b.put(l.ptFramesize(), (byte) framesize);
        b.putInt(l.ptSizebc(), sizebc);
        putRef(b, l.ptK(), pt + ofsk);
        putRef(b, l.ptUv(), pt + ofsuv);
        b.putInt(l.ptSizekgc(), sizekgc);
        b.putInt(l.ptSizekn(), sizekn);
        b.putInt(l.ptSizept(), sizept);
        b.put(l.ptSizeuv(), (byte) uvNames.size());
        b.put(l.ptFlags(), (byte) flags);
        putRef(b, l.ptChunkname(), stringAddress(0));
        b.putInt(l.ptFirstline(), firstline);
        b.putInt(l.ptNumline(), numline);
        if (lineDeltas != null) {
            putRef(b, l.ptLineinfo(), pt + ofsli);
            putRef(b, l.ptUvinfo(), pt + ofsuvinfo);
            putRef(b, l.ptVarinfo(), pt + ofsvar);
        }
        for (int i = 0; i < sizebc; i++) {
            b.putInt(l.ptSize() + 4 * i, bytecode[i]);
        }
        for (int d = 0; d < kgcStrings.size(); d++) {
            putRef(b, (int) (ofsk - (long) (d + 1) * ref), stringAddress(d + 1));
        }
        // the last constant is a child proto pointer (not a string)
        putRef(b, (int) (ofsk - (long) sizekgc * ref), pt);
        b.put((int) ofsli, dbg.toByteArray());
        byte[] bytes = b.array();
        mem.put(pt, bytes);
        mem.put(stringAddress(0), gcstr(chunkname));
        for (int d = 0; d < kgcStrings.size(); d++) {
            mem.put(stringAddress(d + 1), gcstr(kgcStrings.get(d)));
        }
        return bytes;
    }

    private void putRef(ByteBuffer b, int off, long v) {
        if (l.refSize() == 8) {
            b.putLong(off, v);
        } else {
            b.putInt(off, (int) v);
        }
    }

    private static void uleb(ByteArrayOutputStream o, int v) {
        while (v >= 0x80) {
            o.write(v & 0x7f | 0x80);
            v >>>= 7;
        }
        o.write(v);
    }
}
