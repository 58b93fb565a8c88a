package io.moonwalk.luajit.jit;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The derived jit_State offsets against {@code offsetof} compiled with gcc against each fixture source tree
 * (upstream and OpenResty, GC64 and not): the ground truth is the C compiler reading LuaJIT's own headers.
 */
@Tag("tools")
class JitOffsetsTest {
    private static final String PROBE = """
            #include <stdio.h>
            #include <stddef.h>
            #include "lj_obj.h"
            #include "lj_jit.h"
            #include "lj_dispatch.h"
            #include "lj_ir.h"
            #define T(f) printf("T." #f " %zu\\n", offsetof(GCtrace, f))
            #define S(f) printf("S." #f " %zu\\n", offsetof(SnapShot, f))
            #define J(f) printf(#f " %zu\\n", offsetof(GG_State, J) - offsetof(GG_State, g) + offsetof(jit_State, f))
            int main(void) {
              J(flags); J(state); J(trace); J(freetrace); J(sizetrace); J(param); J(mcarea); J(mctop); J(mcbot);
              J(szmcarea); J(szallmcarea);
              printf("JIT_P__MAX %d\\n", (int)JIT_P__MAX);
              printf("JIT_P_sizemcode %d\\nJIT_P_maxmcode %d\\nJIT_P_maxtrace %d\\nJIT_P_hotloop %d\\n",
                     (int)JIT_P_sizemcode, (int)JIT_P_maxmcode, (int)JIT_P_maxtrace, (int)JIT_P_hotloop);
              printf("MCLink %zu\\n", sizeof(MCLink));
              T(nsnap); T(ir); T(nsnapmap); T(snap); T(snapmap); T(startpt); T(traceno); T(mcode); T(szmcode);
              S(mapofs); S(mcofs); S(nent);
              printf("SnapShot %zu\\nIRIns %zu\\nIR_KGC %d\\nIR_KNUM %d\\nREF_BIAS %d\\nSNAP_FRAME %d\\nSNAP_CONT %d\\n",
                     sizeof(SnapShot), sizeof(IRIns), (int)IR_KGC, (int)IR_KNUM, (int)REF_BIAS, (int)SNAP_FRAME,
                     (int)SNAP_CONT);
              printf("IRIns.o %zu\\nGCheader.gct %zu\\n", offsetof(IRIns, o), offsetof(GChead, gct));
              return 0;
            }
            """;

    @ParameterizedTest
    @CsvSource({"openresty-gc64,OPENRESTY_GC64,", "openresty-nogc64,OPENRESTY_32,-DLUAJIT_DISABLE_GC64",
            "upstream-gc64,UPSTREAM_GC64,", "upstream-nogc64,UPSTREAM_32,-DLUAJIT_DISABLE_GC64"})
    void derivedOffsetsEqualOffsetof(String build, String layoutName, String define) throws Exception {
        Map<String, Long> truth = JitTargets.compiledFacts(build, define, PROBE);
        LuajitLayout l = (LuajitLayout) KnownLayouts.class.getField(layoutName).get(null);
        JitOffsets o = JitOffsets.of(l);
        assertThat((long) o.flags()).isEqualTo(truth.get("flags"));
        assertThat((long) o.state()).isEqualTo(truth.get("state"));
        assertThat((long) o.trace()).isEqualTo(truth.get("trace"));
        assertThat((long) o.freetrace()).isEqualTo(truth.get("freetrace"));
        assertThat((long) o.sizetrace()).isEqualTo(truth.get("sizetrace"));
        assertThat((long) o.param()).isEqualTo(truth.get("param"));
        assertThat((long) o.mcarea()).isEqualTo(truth.get("mcarea"));
        assertThat((long) o.mcarea() + JitOffsets.MCTOP).isEqualTo(truth.get("mctop"));
        assertThat((long) o.mcarea() + JitOffsets.MCBOT).isEqualTo(truth.get("mcbot"));
        assertThat((long) o.mcarea() + JitOffsets.SZMCAREA).isEqualTo(truth.get("szmcarea"));
        assertThat((long) o.mcarea() + JitOffsets.SZALLMCAREA).isEqualTo(truth.get("szallmcarea"));
        assertThat(truth.get("JIT_P__MAX")).isEqualTo(JitParam.COUNT);
        assertThat(truth.get("JIT_P_sizemcode")).isEqualTo(JitParam.SIZEMCODE.ordinal());
        assertThat(truth.get("JIT_P_maxmcode")).isEqualTo(JitParam.MAXMCODE.ordinal());
        assertThat(truth.get("JIT_P_maxtrace")).isEqualTo(JitParam.MAXTRACE.ordinal());
        assertThat(truth.get("JIT_P_hotloop")).isEqualTo(JitParam.HOTLOOP.ordinal());
        assertThat(truth.get("MCLink")).isEqualTo(McodeArea.LINK_BYTES);
        // what TraceSnapshotReader reads of GCtrace, SnapShot and IRIns
        int ts = l.tStartpt();
        assertThat(truth.get("T.startpt")).isEqualTo(ts);
        assertThat(truth.get("T.traceno")).isEqualTo(l.tTraceno());
        assertThat(truth.get("T.mcode")).isEqualTo(l.tMcode());
        assertThat(truth.get("T.szmcode")).isEqualTo(l.tSzmcode());
        assertThat(truth.get("T.nsnap")).isEqualTo(l.gcGct() + 1);
        assertThat(truth.get("GCheader.gct")).isEqualTo(l.gcGct());
        assertThat(truth.get("T.ir")).isEqualTo(ts - TraceSnapshotReader.IR_BEFORE_STARTPT);
        assertThat(truth.get("T.nsnapmap")).isEqualTo(ts - TraceSnapshotReader.NSNAPMAP_BEFORE_STARTPT);
        assertThat(truth.get("T.snap")).isEqualTo(ts - TraceSnapshotReader.SNAP_BEFORE_STARTPT);
        assertThat(truth.get("T.snapmap")).isEqualTo(ts - TraceSnapshotReader.SNAPMAP_BEFORE_STARTPT);
        assertThat(truth.get("SnapShot")).isEqualTo(TraceSnapshotReader.SNAPSHOT_BYTES);
        assertThat(truth.get("S.mapofs")).isZero();
        assertThat(truth.get("S.mcofs")).isEqualTo(6);
        assertThat(truth.get("S.nent")).isEqualTo(10);
        assertThat(truth.get("IRIns")).isEqualTo(TraceSnapshotReader.IR_BYTES);
        assertThat(truth.get("IRIns.o")).isEqualTo(TraceSnapshotReader.IR_OPCODE);
        assertThat(truth.get("IR_KGC")).isEqualTo(TraceSnapshotReader.IR_KGC);
        assertThat(truth.get("IR_KNUM")).isEqualTo(TraceSnapshotReader.IR_KNUM);
        assertThat(truth.get("REF_BIAS")).isEqualTo(TraceSnapshotReader.REF_BIAS);
        assertThat(truth.get("SNAP_FRAME")).isEqualTo(TraceSnapshotReader.SNAP_FRAME);
        assertThat(truth.get("SNAP_CONT")).isEqualTo(TraceSnapshotReader.SNAP_CONT);
    }
}
