package io.moonwalk.luajit.jit;

import io.moonwalk.luajit.layout.LuajitLayout;

/**
 * Offsets of the {@code jit_State} fields this package reads, relative to {@code global_State} (GG_State puts
 * J right after g). {@link LuajitLayout} carries the three that the detector cross-checks ({@code trace},
 * {@code sizetrace}, {@code mcarea}); the others sit at fixed distances from those in every 2.1 build we know
 * — measured with {@code offsetof} on the upstream and OpenResty sources in both GC modes (JitOffsetsTest
 * recompiles that probe against the fixture builds). A wrong distance would show up as insane parameters,
 * which {@link JitStateReader} rejects.
 *
 * @param flags       {@code J->flags} (u32; bit 0 = JIT on)
 * @param state       {@code J->state} (TraceState, i32)
 * @param trace       {@code J->trace} (pointer to the GCRef array)
 * @param freetrace   {@code J->freetrace} (u32)
 * @param sizetrace   {@code J->sizetrace} (u32)
 * @param param       {@code J->param[0]} (i32 × {@link JitParam#COUNT})
 * @param mcarea      {@code J->mcarea}, followed by mctop, mcbot, szmcarea, szallmcarea (8 bytes each)
 */
public record JitOffsets(int flags, int state, int trace, int freetrace, int sizetrace, int param, int mcarea) {
    /** {@code J->flags} is this far below {@code J->trace} (both GC modes). */
    private static final int FLAGS_BELOW_TRACE = 0xd8;
    /** {@code J->state} is this far below {@code J->trace} (both GC modes). */
    private static final int STATE_BELOW_TRACE = 0x94;
    /** {@code J->param} is this far above {@code J->trace}: the IR chain anchors and the slot map lie between. */
    private static final int PARAM_ABOVE_TRACE_GC64 = 0x4e0;
    private static final int PARAM_ABOVE_TRACE_32 = 0x4d8;

    /** Offsets of the fields after {@code mcarea}, relative to {@code mcarea}. */
    public static final int MCTOP = 8;
    public static final int MCBOT = 16;
    public static final int SZMCAREA = 24;
    public static final int SZALLMCAREA = 32;

    public static JitOffsets of(LuajitLayout l) {
        if (l.gJSizetrace() != l.gJTrace() + 12) {
            throw new IllegalArgumentException(l.name() + ": J->sizetrace at g+0x" + Integer.toHexString(l.gJSizetrace())
                    + " is not 12 bytes after J->trace at g+0x" + Integer.toHexString(l.gJTrace())
                    + "; this jit_State shape is unknown, add its offsets to JitOffsets");
        }
        return new JitOffsets(l.gJTrace() - FLAGS_BELOW_TRACE, l.gJTrace() - STATE_BELOW_TRACE, l.gJTrace(),
                l.gJTrace() + 8, l.gJSizetrace(),
                l.gJTrace() + (l.gc64() ? PARAM_ABOVE_TRACE_GC64 : PARAM_ABOVE_TRACE_32), l.gJMcarea());
    }

    /** First byte of the span covering every field here. */
    int spanStart() {
        return flags;
    }

    /** End (exclusive) of the span covering every field here. */
    int spanEnd() {
        return mcarea + SZALLMCAREA + 8;
    }
}
