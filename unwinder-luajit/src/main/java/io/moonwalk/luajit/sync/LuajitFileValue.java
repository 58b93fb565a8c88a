package io.moonwalk.luajit.sync;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.luajit.detect.LuajitBinary;
import io.moonwalk.luajit.layout.LuajitLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * Encodes {@code struct mw_luajit_file} (bpf/src/luajit.h), the kernel walker's view of one LuaJIT binary, field by
 * field through {@link RecordLayout#LUAJIT_FILE} (the reserved fields stay zero).
 */
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
        if (l.ptSize() > RecordLayout.LJ_HDR_BYTES) {
            throw new IllegalArgumentException("GCproto header of " + l.ptSize() + " bytes exceeds the walker's "
                    + RecordLayout.LJ_HDR_BYTES);
        }
        byte[] out = new byte[BYTES];
        MemorySegment v = MemorySegment.ofArray(out);
        field("interp_start").set(v, 0L, b.interpreterStart());
        field("interp_end").set(v, 0L, b.interpreterEnd());
        field("g2disp").set(v, 0L, l.g2disp());
        u16(v, "interp_cfa", LuajitLayout.INTERP_CFA_OFFSET);
        field("gc64").set(v, 0L, (byte) (l.gc64() ? 1 : 0));
        u16(v, "cf_l", l.gc64() ? CFRAME_L_GC64 : CFRAME_L_32);
        u16(v, "cf_pc", l.gc64() ? CFRAME_PC_GC64 : CFRAME_PC_32);
        u16(v, "l_glref", l.lGlref());
        u16(v, "l_base", l.lBase());
        u16(v, "l_stack", l.lStack());
        // maxstack is the MRef right before stack in every 2.1 build
        u16(v, "l_maxstack", l.lStack() - l.refSize());
        u16(v, "l_cframe", l.lCframe());
        u16(v, "g_vmstate", l.gVmstate());
        u16(v, "g_cur_l", l.gCurL());
        u16(v, "gc_gct", l.gcGct());
        u16(v, "fn_ffid", l.fnFfid());
        u16(v, "fn_pc", l.fnPc());
        u16(v, "fn_cf", l.fnCf());
        u16(v, "pt_size", l.ptSize());
        u16(v, "pt_sizebc", l.ptSizebc());
        u16(v, "pt_sizept", l.ptSizept());
        u16(v, "pt_sizekgc", l.ptSizekgc());
        u16(v, "pt_sizekn", l.ptSizekn());
        u16(v, "pt_numparams", l.ptNumparams());
        u16(v, "pt_framesize", l.ptFramesize());
        u16(v, "pt_sizeuv", l.ptSizeuv());
        u16(v, "pt_firstline", l.ptFirstline());
        u16(v, "pt_numline", l.ptNumline());
        u16(v, "pt_chunkname", l.ptChunkname());
        u16(v, "pt_lineinfo", l.ptLineinfo());
        u16(v, "g_jit_base", l.gJitBase());
        u16(v, "g_j_trace", l.gJTrace());
        u16(v, "g_j_sizetrace", l.gJSizetrace());
        u16(v, "t_mcode", l.tMcode());
        u16(v, "t_szmcode", l.tSzmcode());
        u16(v, "t_spadjust", l.tSpadjust());
        u16(v, "t_traceno", l.tTraceno());
        u16(v, "t_root", l.tRoot());
        u16(v, "t_startpt", l.tStartpt());
        u16(v, "t_startpc", l.tStartpc());
        return out;
    }

    private static VarHandle field(String name) {
        return RecordLayout.field(RecordLayout.LUAJIT_FILE, name);
    }

    private static void u16(MemorySegment v, String name, int x) {
        field(name).set(v, 0L, u16(x));
    }

    private static short u16(int x) {
        if (x < 0 || x > 0xffff) {
            throw new IllegalArgumentException("offset " + x + " does not fit the walker's 16-bit fields");
        }
        return (short) x;
    }
}
