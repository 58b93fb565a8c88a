package io.moonwalk.luajit.layout;

/**
 * Struct offsets and constants of one LuaJIT build, as needed to walk its stacks (kernel) and read
 * its prototypes (agent). Offsets are in bytes. Known layouts ({@link KnownLayouts}) are a
 * cross-check for the values extracted from each binary, never a substitute (docs/architecture.md, non-negotiable 5).
 *
 * <p>{@code g*} offsets are relative to {@code global_State}; {@code gJ*} are fields of the
 * {@code jit_State} given relative to {@code global_State} (GG_State places J right after g).
 */
public record LuajitLayout(
        String name,
        boolean gc64,
        int g2disp,
        // lua_State
        int lGlref, int lBase, int lTop, int lStack, int lCframe,
        // global_State
        int gVmstate, int gCurL, int gJitBase, int gMainthref,
        // jit_State, relative to g
        int gJTrace, int gJSizetrace, int gJMcarea,
        // GCtrace
        int tStartpt, int tStartpc, int tSzmcode, int tMcode, int tSpadjust, int tTraceno, int tLink, int tRoot,
        // GCproto
        int ptSize, int ptNumparams, int ptFramesize, int ptSizebc, int ptK, int ptUv, int ptSizekgc, int ptSizekn,
        int ptSizept, int ptSizeuv, int ptFlags, int ptTrace, int ptChunkname, int ptFirstline, int ptNumline,
        int ptLineinfo, int ptUvinfo, int ptVarinfo,
        // GCfunc
        int fnFfid, int fnNupvalues, int fnPc, int fnCf,
        // GCstr
        int strHeader, int strLen,
        // GC object header
        int gcGct,
        // size of a GCRef / MRef in objects (8 on GC64, 4 otherwise)
        int refSize) {

    /** The interpreter's constant CFA offset (rsp + 80 on x86_64, GC64 and non-GC64). */
    public static final int INTERP_CFA_OFFSET = 80;
    /** A JIT trace's CFA is rsp + spadjust + 96 on x86_64. */
    public static final int TRACE_CFA_EXTRA = 96;

    /** g->vmstate values below zero (x86_64; >= 0 is a trace number). */
    public static final int VMSTATE_INTERP = -1;
    public static final int VMSTATE_C = -2;
    public static final int VMSTATE_GC = -3;
    public static final int VMSTATE_EXIT = -4;
    public static final int VMSTATE_RECORD = -5;
    public static final int VMSTATE_OPT = -6;
    public static final int VMSTATE_ASM = -7;

    /** GC object types as stored in the header ({@code ~LJ_T*}). */
    public static final int GCT_STR = 4;
    public static final int GCT_PROTO = 7;
    public static final int GCT_FUNC = 8;
    public static final int GCT_TRACE = 9;
    public static final int GCT_THREAD = 6;
}
