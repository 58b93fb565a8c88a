package io.moonwalk.luajit.sync;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.luajit.detect.Flavor;
import io.moonwalk.luajit.detect.LuajitBinary;
import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The walker's per-binary value carries the reference's offsets (the offsets KnownLayouts records for that build). */
@Tag("pure")
class LuajitFileValueTest {
    private static Object get(MemorySegment b, String field) {
        return RecordLayout.field(RecordLayout.LUAJIT_FILE, field).get(b, 0L);
    }

    private static int u16(MemorySegment b, String field) {
        return Short.toUnsignedInt((short) get(b, field));
    }

    private static MemorySegment encode(LuajitLayout l) {
        LuajitBinary bin = new LuajitBinary(Path.of("/x"), 0x9e30, 0xde82, l.gc64(), Flavor.OPENRESTY, l, List.of());
        byte[] v = LuajitFileValue.encode(bin);
        assertThat(v).hasSize((int) RecordLayout.LUAJIT_FILE.byteSize());
        return MemorySegment.ofArray(v);
    }

    @Test
    void openrestyGc64() {
        MemorySegment b = encode(KnownLayouts.OPENRESTY_GC64);
        assertThat(get(b, "interp_start")).isEqualTo(0x9e30L);
        assertThat(get(b, "interp_end")).isEqualTo(0xde82L);
        assertThat(get(b, "g2disp")).isEqualTo(0xfa8);
        assertThat(u16(b, "interp_cfa")).isEqualTo(80);
        assertThat(get(b, "gc64")).isEqualTo((byte) 1);
        assertThat(u16(b, "cf_l")).isEqualTo(0x10);
        assertThat(u16(b, "cf_pc")).isEqualTo(0x18);
        assertThat(u16(b, "l_glref")).isEqualTo(0x10);
        assertThat(u16(b, "l_base")).isEqualTo(0x20);
        assertThat(u16(b, "l_maxstack")).isEqualTo(0x30);
        assertThat(u16(b, "l_stack")).isEqualTo(0x38);
        assertThat(u16(b, "l_cframe")).isEqualTo(0x50);
        assertThat(u16(b, "g_vmstate")).isEqualTo(0xb8);
        assertThat(u16(b, "g_cur_l")).isEqualTo(0x170);
        assertThat(u16(b, "fn_pc")).isEqualTo(0x20);
        assertThat(u16(b, "fn_cf")).isEqualTo(0x28);
        assertThat(u16(b, "pt_size")).isEqualTo(0x68);
        assertThat(u16(b, "pt_chunkname")).isEqualTo(0x40);
        assertThat(u16(b, "pt_lineinfo")).isEqualTo(0x50);
    }

    @Test
    void nonGc64() {
        LuajitLayout l = KnownLayouts.all().stream().filter(x -> !x.gc64()).findFirst().orElseThrow();
        MemorySegment b = encode(l);
        assertThat(get(b, "gc64")).isEqualTo((byte) 0);
        assertThat(u16(b, "cf_l")).isEqualTo(24);
        assertThat(u16(b, "cf_pc")).isEqualTo(28);
        assertThat(u16(b, "l_glref")).isEqualTo(0x8);
        assertThat(u16(b, "l_maxstack")).isEqualTo(0x20);
        assertThat(u16(b, "l_stack")).isEqualTo(0x24);
        assertThat(u16(b, "l_cframe")).isEqualTo(0x30);
        assertThat(u16(b, "g_cur_l")).isEqualTo(0x120);
        assertThat(u16(b, "pt_size")).isEqualTo(0x40);
    }
}
