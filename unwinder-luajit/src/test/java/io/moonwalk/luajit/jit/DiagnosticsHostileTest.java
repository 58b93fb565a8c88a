package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.luajit.abort.PenaltyCache;
import io.moonwalk.luajit.abort.PenaltyReader;
import io.moonwalk.luajit.abort.PenaltySlot;
import io.moonwalk.luajit.abort.SiteNamer;
import io.moonwalk.luajit.gc.GcHeap;
import io.moonwalk.luajit.gc.GcHeapReader;
import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The GC-heap, penalty-cache and site readers on hostile memory: impossible values are errors with a reason, never
 * figures; a site address in garbage is {@code [unknown site]}, never a name, and costs a bounded number of reads.
 */
@Tag("pure")
class DiagnosticsHostileTest {
    private static LuajitLayout layout(boolean gc64) {
        return gc64 ? KnownLayouts.OPENRESTY_GC64 : KnownLayouts.UPSTREAM_32;
    }

    private static void putSize(FakeVm vm, int off, long v) {
        if (vm.l.gc64()) {
            vm.gBytes().putLong(off, v);
        } else {
            vm.gBytes().putInt(off, (int) v);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void gcHeapValuesOutsideLuajitsRangeAreRefused(boolean gc64) throws Exception {
        FakeVm vm = new FakeVm(layout(gc64));
        GcHeapReader r = new GcHeapReader(vm, vm.l);
        putSize(vm, 0x10, 123_456);
        putSize(vm, r.thresholdOffset(), 200_000);
        vm.gBytes().put(r.stateOffset(), (byte) 4);
        GcHeap ok = r.read(1, vm.g);
        assertThat(ok.bytes()).isEqualTo(123_456);
        assertThat(ok.stateName()).isEqualTo("sweep");

        vm.gBytes().put(r.stateOffset(), (byte) 6);
        assertThatThrownBy(() -> r.read(1, vm.g)).isInstanceOf(JitReadException.class)
                .hasMessageContaining("state 6");
        vm.gBytes().put(r.stateOffset(), (byte) 0);
        putSize(vm, 0x10, 0);
        assertThatThrownBy(() -> r.read(1, vm.g)).isInstanceOf(JitReadException.class)
                .extracting(e -> ((JitReadException) e).reason()).isEqualTo(JitReadException.Reason.NOT_A_JIT_STATE);
        assertThatThrownBy(() -> r.read(1, 0x7000_0000_0000L)).isInstanceOf(JitReadException.class)
                .extracting(e -> ((JitReadException) e).reason()).isEqualTo(JitReadException.Reason.UNREADABLE);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void penaltySlotsOutsideLuajitsRangeAreRefused(boolean gc64) throws Exception {
        FakeVm vm = new FakeVm(layout(gc64));
        PenaltyReader r = new PenaltyReader(vm, vm.l);
        int slot = 2 * vm.l.refSize();
        PenaltyCache empty = r.read(1, vm.g);
        assertThat(empty.slots()).noneMatch(PenaltySlot::used);

        ByteBuffer g = vm.gBytes();
        vm.putRef(g, r.penaltyOffset() + 3 * slot, 0x10_0040_0000L);
        g.putShort(r.penaltyOffset() + 3 * slot + vm.l.refSize(), (short) 144);
        g.putShort(r.penaltyOffset() + 3 * slot + vm.l.refSize() + 2, (short) 10);
        g.putInt(r.penaltyslotOffset(), 4);
        PenaltyCache c = r.read(1, vm.g);
        assertThat(c.slots().get(3)).isEqualTo(new PenaltySlot(0x10_0040_0000L & (gc64 ? -1L : 0xffffffffL), 144, 10,
                false));
        assertThat(c.nextSlot()).isEqualTo(4);

        g.putInt(r.penaltyslotOffset(), 64);
        assertThatThrownBy(() -> r.read(1, vm.g)).hasMessageContaining("J->penaltyslot = 64");
        g.putInt(r.penaltyslotOffset(), 4);
        g.putShort(r.penaltyOffset() + 3 * slot + vm.l.refSize(), (short) 5); // below PENALTY_MIN
        assertThatThrownBy(() -> r.read(1, vm.g)).hasMessageContaining("val 5");
        g.putShort(r.penaltyOffset() + 3 * slot + vm.l.refSize(), (short) 144);
        vm.putRef(g, r.penaltyOffset() + 3 * slot, 0x10_0040_0002L); // not an instruction address
        assertThatThrownBy(() -> r.read(1, vm.g)).isInstanceOf(JitReadException.class);
    }

    @Test
    void aSiteInMemoryWithoutAProtoIsUnknownAfterBoundedReads() {
        FakeVm vm = new FakeVm(KnownLayouts.OPENRESTY_GC64);
        // 1 MiB of memory that looks like GC headers of protos everywhere (the gct byte), but is no proto
        ByteBuffer junk = vm.region(0x20_0000_0000L, 1 << 20);
        for (int i = 0; i < junk.capacity(); i++) {
            junk.put(i, (byte) LuajitLayout.GCT_PROTO);
        }
        long before = vm.reads;
        String name = new SiteNamer(vm, vm.l).name(1, 0x20_0000_0000L + (1 << 19));
        assertThat(name).isEqualTo(SiteNamer.UNKNOWN);
        System.out.printf("site in proto-looking junk: %d reads%n", vm.reads - before);
        assertThat(vm.reads - before).as("reads for one unknown site").isLessThan(200_000);
        assertThat(new SiteNamer(vm, vm.l).name(1, 0x30_0000_0000L)).as("unmapped").isEqualTo(SiteNamer.UNKNOWN);
    }
}
