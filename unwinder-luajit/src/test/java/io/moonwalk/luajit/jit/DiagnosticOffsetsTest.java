package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.abort.PenaltyCache;
import io.moonwalk.luajit.abort.PenaltyReader;
import io.moonwalk.luajit.abort.PenaltySlot;
import io.moonwalk.luajit.gc.GcHeapReader;
import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.process.ProcessMemory;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The offsets of {@code g->gc} and {@code J->penalty[]} that {@link GcHeapReader} and {@link PenaltyReader} derive,
 * against {@code offsetof} compiled with gcc against each fixture source tree, and the penalty constants against
 * lj_jit.h's.
 */
@Tag("tools")
class DiagnosticOffsetsTest {
    private static final String PROBE = """
            #include <stdio.h>
            #include <stddef.h>
            #include "lj_obj.h"
            #include "lj_jit.h"
            #include "lj_dispatch.h"
            #define J(f) printf(#f " %zu\\n", offsetof(GG_State, J) - offsetof(GG_State, g) + offsetof(jit_State, f))
            int main(void) {
              J(penalty); J(penaltyslot);
              printf("total %zu\\nthreshold %zu\\nstate %zu\\n", offsetof(global_State, gc.total),
                     offsetof(global_State, gc.threshold), offsetof(global_State, gc.state));
              printf("slot %zu\\nval %zu\\nreason %zu\\n", sizeof(HotPenalty), offsetof(HotPenalty, val),
                     offsetof(HotPenalty, reason));
              printf("SLOTS %d\\nMIN %d\\nMAX %d\\n", PENALTY_SLOTS, PENALTY_MIN, PENALTY_MAX);
              return 0;
            }
            """;

    @ParameterizedTest
    @CsvSource({"openresty-gc64,OPENRESTY_GC64,", "openresty-nogc64,OPENRESTY_32,-DLUAJIT_DISABLE_GC64",
            "upstream-gc64,UPSTREAM_GC64,", "upstream-nogc64,UPSTREAM_32,-DLUAJIT_DISABLE_GC64"})
    void derivedOffsetsEqualOffsetof(String build, String layoutName, String define) throws Exception {
        Map<String, Long> truth = JitTargets.compiledFacts(build, define, PROBE);
        LuajitLayout l = (LuajitLayout) KnownLayouts.class.getField(layoutName).get(null);
        try (ProcessMemory mem = new ProcessMemory()) {
            GcHeapReader gc = new GcHeapReader(mem, l);
            assertThat(0x10L).as("g->gc.total").isEqualTo(truth.get("total"));
            assertThat((long) gc.thresholdOffset()).isEqualTo(truth.get("threshold"));
            assertThat((long) gc.stateOffset()).isEqualTo(truth.get("state"));
            PenaltyReader p = new PenaltyReader(mem, l);
            assertThat((long) p.penaltyOffset()).isEqualTo(truth.get("penalty"));
            assertThat((long) p.penaltyslotOffset()).isEqualTo(truth.get("penaltyslot"));
        }
        assertThat(truth.get("slot")).isEqualTo(2L * l.refSize());
        assertThat(truth.get("val")).isEqualTo((long) l.refSize());
        assertThat(truth.get("reason")).isEqualTo(l.refSize() + 2L);
        assertThat(truth.get("SLOTS")).isEqualTo(PenaltyCache.SLOTS);
        assertThat(truth.get("MIN")).isEqualTo(PenaltySlot.MIN);
        assertThat(truth.get("MAX")).isEqualTo(PenaltySlot.MAX);
    }
}
