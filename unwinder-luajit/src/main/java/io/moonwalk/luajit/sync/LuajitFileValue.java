package io.moonwalk.luajit.sync;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.luajit.detect.LuajitBinary;
import io.moonwalk.luajit.layout.LuajitLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Encodes {@code struct mw_luajit_file} (bpf/src/luajit.h), the kernel walker's view of one LuaJIT binary. */
public final class LuajitFileValue {
    private LuajitFileValue() {
    }

    /** Bytes of the value. */
    public static final int BYTES = (int) RecordLayout.LUAJIT_FILE.byteSize();

    /*
     * The interpreter frame (lj_frame.h CFRAME_OFS_L / CFRAME_OFS_PC, x86_64 POSIX). Fixed by the VM's
     * calling convention rather than by struct layout; the detector's known layouts agree for all builds.
     */
    static final int CFRAME_L_GC64 = 16;
    static final int CFRAME_PC_GC64 = 24;
    static final int CFRAME_L_32 = 24;
    static final int CFRAME_PC_32 = 28;

    public static byte[] encode(LuajitBinary b) {
        LuajitLayout l = b.layout();
        ByteBuffer v = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        v.putLong(b.interpreterStart()).putLong(b.interpreterEnd());
        v.putInt(l.g2disp());
        v.putShort(u16(LuajitLayout.INTERP_CFA_OFFSET));
        v.put((byte) (l.gc64() ? 1 : 0)).put((byte) 0);
        v.putShort(u16(l.gc64() ? CFRAME_L_GC64 : CFRAME_L_32)).putShort(u16(l.gc64() ? CFRAME_PC_GC64 : CFRAME_PC_32));
        // lua_State: maxstack is the MRef right before stack in every 2.1 build
        v.putShort(u16(l.lGlref())).putShort(u16(l.lBase())).putShort(u16(l.lStack()))
                .putShort(u16(l.lStack() - l.refSize())).putShort(u16(l.lCframe())).putShort((short) 0);
        v.putShort(u16(l.gVmstate())).putShort(u16(l.gCurL()));
        v.putShort(u16(l.gcGct())).putShort(u16(l.fnFfid())).putShort(u16(l.fnPc())).putShort(u16(l.fnCf()));
        if (l.ptSize() > RecordLayout.LJ_HDR_BYTES) {
            throw new IllegalArgumentException("GCproto header of " + l.ptSize() + " bytes exceeds the walker's "
                    + RecordLayout.LJ_HDR_BYTES);
        }
        v.putShort(u16(l.ptSize())).putShort(u16(l.ptSizebc())).putShort(u16(l.ptSizept()))
                .putShort(u16(l.ptSizekgc())).putShort(u16(l.ptSizekn())).putShort(u16(l.ptNumparams()))
                .putShort(u16(l.ptFramesize())).putShort(u16(l.ptSizeuv()));
        v.putShort(u16(l.ptFirstline())).putShort(u16(l.ptNumline())).putShort(u16(l.ptChunkname()))
                .putShort(u16(l.ptLineinfo()));
        v.putShort(u16(l.gJitBase())).putShort(u16(l.gJTrace())).putShort(u16(l.gJSizetrace()));
        v.putShort(u16(l.tMcode())).putShort(u16(l.tSzmcode())).putShort(u16(l.tSpadjust()))
                .putShort(u16(l.tTraceno())).putShort(u16(l.tRoot())).putShort(u16(l.tStartpt()))
                .putShort(u16(l.tStartpc()));
        v.putInt(0).putInt(0);
        if (v.position() != BYTES) {
            throw new IllegalStateException("mw_luajit_file encoded to " + v.position() + " bytes, expected " + BYTES);
        }
        return v.array();
    }

    private static short u16(int x) {
        if (x < 0 || x > 0xffff) {
            throw new IllegalArgumentException("offset " + x + " does not fit the walker's 16-bit fields");
        }
        return (short) x;
    }
}
