package io.moonwalk.luajit.jit;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import io.moonwalk.process.ProcessMemory;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Hostile target memory: garbage g, looping or endless area chains, corrupt trace slots. */
@Tag("tools")
class JitStateReaderHostileTest {
    private static final long AREA = 0x7f00_0000_0000L;

    private static FakeVm vm() {
        FakeVm vm = new FakeVm(KnownLayouts.OPENRESTY_GC64);
        vm.areas(0x10000, AREA, AREA - 0x10000);
        vm.traces(100, AREA + 0x1000, AREA - 0x10000 + 0x2000);
        return vm;
    }

    @Test
    void aWellFormedImageReads() throws Exception {
        FakeVm vm = vm();
        JitSnapshot s = new JitStateReader(vm, vm.l).read(1, vm.g);
        assertThat(s.areas()).containsExactly(new McodeArea(AREA - 0x10000, 0x10000), new McodeArea(AREA, 0x10000));
        assertThat(s.traces()).extracting(TraceInfo::traceno).containsExactly(1, 2);
        assertThat(s.rejectedTraces()).isZero();
        assertThat(s.jitOn()).isTrue();
    }

    @Test
    void loopingAreaChainFailsClearlyAndQuickly() {
        FakeVm vm = vm();
        vm.region(AREA - 0x10000, 16).putLong(0, AREA).putLong(8, 0x10000); // second links back to the first
        JitStateReader r = new JitStateReader(vm, vm.l);
        assertThatThrownBy(() -> r.read(1, vm.g)).isInstanceOf(JitReadException.class)
                .hasMessageContaining("loops back")
                .satisfies(e -> assertThat(((JitReadException) e).reason())
                        .isEqualTo(JitReadException.Reason.BAD_AREA_CHAIN));
        assertThat(vm.reads).as("bounded reads").isLessThan(50);
    }

    @Test
    void endlessAreaChainStopsAtTheBound() {
        FakeVm vm = new FakeVm(KnownLayouts.OPENRESTY_GC64);
        long[] starts = new long[JitStateReader.MAX_AREAS + 10];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = AREA - (long) i * 0x10000;
        }
        vm.areas(0x10000, starts);
        JitStateReader r = new JitStateReader(vm, vm.l);
        assertThatThrownBy(() -> r.read(1, vm.g)).isInstanceOf(JitReadException.class)
                .hasMessageContaining("more than " + JitStateReader.MAX_AREAS);
        assertThat(vm.reads).isLessThan((long) JitStateReader.ATTEMPTS * (JitStateReader.MAX_AREAS + 10));
    }

    @Test
    void absurdAreaSizeAndMisalignmentAreRejected() {
        FakeVm vm = vm();
        vm.region(AREA, 16).putLong(0, 0).putLong(8, 12345);
        assertThatThrownBy(() -> new JitStateReader(vm, vm.l).read(1, vm.g)).hasMessageContaining("size 12345");
        FakeVm vm2 = vm();
        vm2.gBytes().putLong(vm2.o.mcarea(), AREA + 8);
        assertThatThrownBy(() -> new JitStateReader(vm2, vm2.l).read(1, vm2.g)).hasMessageContaining("page aligned");
    }

    @Test
    void corruptTraceSlotsAreCountedNotBelieved() throws Exception {
        FakeVm vm = vm();
        vm.traces(100, AREA + 0x1000, 0xdead_0000L, AREA + 0x3000); // trace 2's mcode is in no area
        JitSnapshot s = new JitStateReader(vm, vm.l).read(1, vm.g);
        assertThat(s.traces()).extracting(TraceInfo::traceno).containsExactly(1, 3);
        assertThat(s.rejectedTraces()).isEqualTo(1);
    }

    @Test
    void gWithoutItsMainThreadIsNotAVm() {
        FakeVm vm = vm();
        assertThatThrownBy(() -> new JitStateReader(vm, vm.l).read(1, vm.g + 8))
                .hasMessageContaining("not a global_State");
        assertThatThrownBy(() -> new JitStateReader(vm, vm.l).read(1, 0)).hasMessageContaining("null");
        vm.gBytes().putInt(vm.o.param(), -5);
        assertThatThrownBy(() -> new JitStateReader(vm, vm.l).read(1, vm.g))
                .hasMessageContaining("MAXTRACE").hasMessageContaining("impossible");
    }

    /** Random 8-aligned addresses in a live luajit's heap as g: every one fails with a reason, in bounded time. */
    @Test
    void randomLiveHeapAddressesAsGAreRefused() throws Exception {
        try (LuaRun lua = JitStateReaderLiveTest.start(JitTargets.INSTALLED_OPENRESTY_GC64, "side_trace.lua", "0.2",
                "serve"); ProcessMemory mem = new ProcessMemory()) {
            LuaRun.Truth truth = LuaRun.parse(lua.readUntil("READY"), "");
            JitStateReader r = new JitStateReader(mem, JitTargets.INSTALLED_OPENRESTY_GC64.layout());
            long realG = r.globalOfThread(lua.pid, truth.thread());
            List<Mapping> heap = new ArrayList<>();
            for (Mapping m : ProcessMaps.read(lua.pid).mappings()) {
                if (m.perms().startsWith("rw")) {
                    heap.add(m);
                }
            }
            SplittableRandom rnd = new SplittableRandom(7);
            Map<JitReadException.Reason, Integer> reasons = new EnumMap<>(JitReadException.Reason.class);
            int n = 5000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                Mapping m = heap.get(rnd.nextInt(heap.size()));
                long a = (m.start() + rnd.nextLong(m.end() - m.start())) & ~7L;
                if (a == realG) {
                    continue;
                }
                try {
                    JitSnapshot s = r.read(lua.pid, a);
                    throw new AssertionError("garbage g 0x" + Long.toHexString(a) + " read as " + s);
                } catch (JitReadException e) {
                    reasons.merge(e.reason(), 1, Integer::sum);
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("garbage g: %d addresses refused in %d ms: %s%n", n, ms, reasons);
            assertThat(ms).isLessThan(20_000);
            assertThat(r.read(lua.pid, realG).traces()).isNotEmpty();
        }
    }
}
