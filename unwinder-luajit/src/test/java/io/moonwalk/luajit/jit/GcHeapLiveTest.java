package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.gc.GcHeap;
import io.moonwalk.luajit.gc.GcHeapReader;
import io.moonwalk.process.ProcessMemory;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The GC heap read from outside ({@code g->gc}) against {@code collectgarbage("count")} printed by the workload
 * ({@code testdata/lua/gc_heap.lua}) right before it blocks on stdin — every flavour and GC mode, while the heap
 * grows and after a full collection.
 */
@Tag("tools")
class GcHeapLiveTest {
    /** The acceptance bound; the printout allocates a few hundred bytes after the figure is taken. */
    private static final double TOLERANCE = 0.05;

    @ParameterizedTest
    @EnumSource(JitTargets.class)
    void gcBytesMatchCollectgarbageCount(JitTargets target) throws Exception {
        try (LuaRun lua = JitStateReaderLiveTest.start(target, "gc_heap.lua"); ProcessMemory mem = new ProcessMemory()) {
            List<String> first = lua.readUntil("DONE");
            long thread = LuaRun.hex(first.get(0).split(" ")[1]);
            long g = new JitStateReader(mem, target.layout()).globalOfThread(lua.pid, thread);
            GcHeapReader reader = new GcHeapReader(mem, target.layout());

            compare(target, "start", reader.read(lua.pid, g), count(first));
            double small = count(first);
            List<String> grown = lua.command("grow 20000");
            GcHeap big = reader.read(lua.pid, g);
            compare(target, "after grow 20000", big, count(grown));
            assertThat(count(grown)).as("the workload's heap grew").isGreaterThan(small + 10_000);
            List<String> freed = lua.command("free");
            GcHeap after = reader.read(lua.pid, g);
            compare(target, "after free + full GC", after, count(freed));
            assertThat(after.bytes()).isLessThan(big.bytes() / 4);
            assertThat(after.stateName()).as("a full collection ends in the pause phase").isEqualTo("pause");
            assertThat(after.threshold()).as("the next cycle starts above the live heap").isGreaterThan(after.bytes());
        }
    }

    private static void compare(JitTargets target, String when, GcHeap heap, double countKb) {
        double ours = heap.bytes() / 1024.0;
        System.out.printf("%s %s: moonwalk %.3f KB (threshold %d KB, %s), collectgarbage(\"count\") %.3f KB,"
                + " diff %+.3f%%%n", target, when, ours, heap.threshold() >> 10, heap.stateName(), countKb,
                100 * (ours - countKb) / countKb);
        assertThat(ours).as("%s %s: g->gc.total vs collectgarbage(\"count\")", target, when)
                .isBetween(countKb * (1 - TOLERANCE), countKb * (1 + TOLERANCE));
    }

    private static double count(List<String> lines) {
        for (String l : lines) {
            if (l.startsWith("COUNT ")) {
                return Double.parseDouble(l.substring(6));
            }
        }
        throw new AssertionError("no COUNT line in " + lines);
    }
}
