package io.moonwalk.luajit.jit;

/**
 * {@code J->param[]} indices, in the order of {@code JIT_PARAMDEF} in {@code lj_jit.h} (identical in upstream
 * 2.1 and OpenResty luajit2; only the defaults differ: maxtrace 1000 vs 8000, maxmcode 512 vs 40960 KB).
 */
public enum JitParam {
    MAXTRACE, MAXRECORD, MAXIRCONST, MAXSIDE, MAXSNAP, MINSTITCH,
    HOTLOOP, HOTEXIT, TRYSIDE,
    INSTUNROLL, LOOPUNROLL, CALLUNROLL, RECUNROLL,
    /** Size of each mcode area, KB. */
    SIZEMCODE,
    /** Limit on the total of all mcode areas, KB. */
    MAXMCODE;

    public static final int COUNT = values().length;
}
