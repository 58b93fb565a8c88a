package io.moonwalk.luajit.proto;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.luajit.naming.CallSiteName;
import io.moonwalk.luajit.naming.FastFunctionNames;
import io.moonwalk.luajit.naming.LuaFrameNamer;
import io.moonwalk.luajit.naming.NameKind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parsing and validation on synthetic proto images laid out as LuaJIT's parser does, for GC64 and non-GC64
 * (32-bit refs, 0x40-byte header, one-slot frames) layouts: the non-GC64 path is exercised here until real
 * non-GC64 fixtures exist.
 */
@Tag("pure")
class ProtoParsingTest {
    static Stream<LuajitLayout> layouts() {
        return Stream.of(KnownLayouts.OPENRESTY_GC64, KnownLayouts.UPSTREAM_32, KnownLayouts.OPENRESTY_32,
                KnownLayouts.UPSTREAM_GC64);
    }

    private static final BytecodeSet BC = BytecodeSet.LUAJIT_2_1;

    private static ProtoImage sample(LuajitLayout l) {
        ProtoImage img = new ProtoImage(l, BC);
        int fr2 = l.gc64() ? 1 : 0;
        // obj:m(); local x = up; for i = ... : GGET 0 "obj"; MOV 2+fr2-1.. ; TGETS; CALL; UGET; FORI; RET0
        img.bytecode = new int[] {
                BC.funcf | 4 << 8,
                BC.gget | 0 << 8 | 0 << 16,                       // 1: slot0 = obj
                BC.mov | (1 + 1 + fr2) << 8 | 0 << 16,            // 2: self
                BC.tgets | 1 << 8 | 1 << 16 | 0 << 24,            // 3: slot1 = obj.m
                BC.op("CALL") | 1 << 8 | 1 << 16 | (2 + fr2) << 24, // 4: obj:m()
                BC.uget | 3 << 8 | 1 << 16,                       // 5: slot3 = upvalue #1
                BC.op("CALL") | 3 << 8 | 1 << 16 | 1 << 24,       // 6: upvalue call
                BC.op("RET0") | 1 << 16};
        img.lineDeltas = new int[] {1, 1, 1, 1, 2, 2, 3};
        img.kgcStrings = List.of("obj", "m");
        img.uvNames = List.of("first_up", "helper");
        img.vars = List.of(new Object[] {"self", 5, 8}, new Object[] {"\u0001", 5, 7}, new Object[] {"x", 6, 8});
        return img;
    }

    private static ProtoReader reader(ImageMemory mem, LuajitLayout l) {
        return new ProtoReader(mem, l, BC, 16);
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void parsesEveryPieceOfASyntheticProto(LuajitLayout l) {
        ImageMemory mem = new ImageMemory();
        ProtoImage img = sample(l);
        byte[] bytes = img.install(mem);
        ProtoReader r = reader(mem, l);
        ProtoResult res = r.read(1, img.pt);
        assertThat(res).isInstanceOf(ProtoInfo.class);
        ProtoInfo p = (ProtoInfo) res;
        assertThat(p.chunkname()).isEqualTo("@/srv/app.lua");
        assertThat(p.firstline()).isEqualTo(10);
        assertThat(p.numline()).isEqualTo(5);
        assertThat(p.sizebc()).isEqualTo(8);
        assertThat(p.line(0)).isEqualTo(10);
        assertThat(p.line(4)).isEqualTo(11);
        assertThat(p.line(7)).isEqualTo(13);
        assertThat(p.line(8)).isEqualTo(15);
        assertThat(p.line(9)).isZero();
        assertThat(p.upvalueName(1)).isEqualTo("helper");
        assertThat(p.localName(1, 0)).isNull();
        assertThat(p.localName(5, 0)).isEqualTo("self");
        assertThat(p.localName(5, 1)).isEqualTo("(for index)");
        assertThat(p.localName(6, 2)).isEqualTo("x");
        assertThat(p.localName(7, 3)).isNull();
        assertThat(r.kgcString(1, p, 0)).isEqualTo("obj");
        assertThat(r.kgcString(1, p, 1)).isEqualTo("m");
        assertThat(r.kgcString(1, p, 2)).as("a child proto, not a string").isNull();
        assertThat(r.kgcString(1, p, 3)).isNull();
        assertThat(p.fingerprint()).isEqualTo(ProtoFingerprint.fingerprint(bytes, img.pt, l));
        assertThat(r.lookup(1, img.pt, p.fingerprint())).isEqualTo(p);
        assertThat(r.lookup(1, img.pt, p.fingerprint() + 1)).isEqualTo(ProtoFailure.STALE);

        // naming uses the layout's frame width (LJ_FR2) for the method pattern
        LuaFrameNamer namer = new LuaFrameNamer(r, FastFunctionNames.none(), a -> null);
        CallSiteName m = namer.callSiteName(1, p, 4);
        assertThat(m).isEqualTo(new CallSiteName("m", NameKind.METHOD, "obj"));
        assertThat(m.display()).isEqualTo("obj:m");
        assertThat(namer.callSiteName(1, p, 6)).isEqualTo(new CallSiteName("helper", NameKind.UPVALUE, null));
        assertThat(namer.callSiteName(1, p, 3)).isEqualTo(new CallSiteName("__index", NameKind.METAMETHOD, null));
        assertThat(namer.callSiteName(1, p, 7)).isNull();
        assertThat(namer.luaFrameLabel(1, p, 4, p, 4)).isEqualTo("obj:m (/srv/app.lua:11)");
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void lineinfoWidthsAndStrippedProtos(LuajitLayout l) {
        for (int numline : new int[] {255, 256, 65535, 65536, 200_000}) {
            ImageMemory mem = new ImageMemory();
            ProtoImage img = sample(l);
            img.numline = numline;
            img.lineDeltas = new int[] {0, 1, numline / 2, 3, numline - 1, numline, 7};
            img.install(mem);
            ProtoInfo p = (ProtoInfo) reader(mem, l).read(1, img.pt);
            for (int pc = 1; pc < 8; pc++) {
                assertThat(p.line(pc)).as("numline %d pc %d", numline, pc).isEqualTo(10 + img.lineDeltas[pc - 1]);
            }
        }
        ImageMemory mem = new ImageMemory();
        ProtoImage img = sample(l);
        img.lineDeltas = null;
        img.install(mem);
        ProtoInfo p = (ProtoInfo) reader(mem, l).read(1, img.pt);
        assertThat(p.hasDebugInfo()).isFalse();
        assertThat(p.line(3)).isZero();
        assertThat(p.localName(1, 0)).isNull();
        assertThat(p.upvalueName(0)).isNull();
    }

    private record Corruption(String what, Consumer<ByteBuffer> edit, ProtoFailure expected) {
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void everyCheckRejectsItsCorruption(LuajitLayout l) {
        int ref = l.refSize();
        List<Corruption> cases = List.of(
                new Corruption("gct", b -> b.put(l.gcGct(), (byte) 8), ProtoFailure.BAD_TYPE),
                new Corruption("sizebc 0", b -> b.putInt(l.ptSizebc(), 0), ProtoFailure.BAD_SIZES),
                new Corruption("sizebc huge", b -> b.putInt(l.ptSizebc(), 1 << 27), ProtoFailure.BAD_SIZES),
                new Corruption("sizept huge", b -> b.putInt(l.ptSizept(), 64 << 20), ProtoFailure.BAD_SIZES),
                new Corruption("sizept small", b -> b.putInt(l.ptSizept(), l.ptSize()), ProtoFailure.BAD_SIZES),
                new Corruption("sizekgc", b -> b.putInt(l.ptSizekgc(), 5), ProtoFailure.BAD_LAYOUT),
                new Corruption("sizekn", b -> b.putInt(l.ptSizekn(), 2), ProtoFailure.BAD_LAYOUT),
                new Corruption("k", b -> addRef(b, l.ptK(), ref, 8), ProtoFailure.BAD_LAYOUT),
                new Corruption("uv", b -> addRef(b, l.ptUv(), ref, 2), ProtoFailure.BAD_LAYOUT),
                new Corruption("lineinfo", b -> addRef(b, l.ptLineinfo(), ref, 1), ProtoFailure.BAD_LAYOUT),
                new Corruption("uvinfo", b -> addRef(b, l.ptUvinfo(), ref, 1), ProtoFailure.BAD_LAYOUT),
                new Corruption("varinfo", b -> addRef(b, l.ptVarinfo(), ref, 1), ProtoFailure.BAD_LAYOUT),
                new Corruption("varinfo past end", b -> addRef(b, l.ptVarinfo(), ref, 4096), ProtoFailure.BAD_LAYOUT),
                new Corruption("firstline", b -> b.putInt(l.ptFirstline(), -1), ProtoFailure.BAD_LINES),
                new Corruption("numline", b -> b.putInt(l.ptNumline(), 0x7fffffff), ProtoFailure.BAD_LINES),
                new Corruption("delta > numline", b -> b.putInt(l.ptNumline(), 2), ProtoFailure.BAD_LINES),
                new Corruption("header op", b -> b.put(l.ptSize(), (byte) BC.op("MOV")), ProtoFailure.BAD_HEADER_OP),
                new Corruption("chunkname null", b -> addRef(b, l.ptChunkname(), ref, -0x20_0000),
                        ProtoFailure.BAD_CHUNKNAME),
                new Corruption("chunkname not a string", b -> addRef(b, l.ptChunkname(), ref, -0x10_0000),
                        ProtoFailure.BAD_CHUNKNAME));
        for (Corruption c : cases) {
            ImageMemory mem = new ImageMemory();
            ProtoImage img = sample(l);
            byte[] bytes = img.install(mem);
            c.edit().accept(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
            ProtoReader r = reader(mem, l);
            assertThat(r.read(1, img.pt)).as(c.what()).isEqualTo(c.expected());
            // with the fingerprint of the corrupted header (as the kernel would send), still refused
            long fp = r.currentFingerprint(1, img.pt);
            assertThat(r.lookup(1, img.pt, fp)).as(c.what() + " via lookup").isEqualTo(c.expected());
            assertThat(r.stats().invalid()).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void badChunknameStrings(LuajitLayout l) {
        for (byte[] data : List.of(new byte[] {'@', 'a', (byte) 0xff}, new byte[] {'@', (byte) 0xc0, (byte) 0x80},
                new byte[] {'@', 0, 'x'})) {
            ImageMemory mem = new ImageMemory();
            ProtoImage img = sample(l);
            img.install(mem);
            byte[] s = img.gcstr("@abc");
            System.arraycopy(data, 0, s, l.strHeader(), 3);
            mem.put(img.strBase, s);
            assertThat(reader(mem, l).read(1, img.pt)).isEqualTo(ProtoFailure.BAD_CHUNKNAME);
        }
        ImageMemory mem = new ImageMemory();
        ProtoImage img = sample(l);
        img.install(mem);
        byte[] s = img.gcstr("@abc");
        s[s.length - 1] = 'x'; // no terminator
        mem.put(img.strBase, s);
        assertThat(reader(mem, l).read(1, img.pt)).isEqualTo(ProtoFailure.BAD_CHUNKNAME);
        // a huge source-text chunk name is kept truncated, checked for its terminator far away
        mem = new ImageMemory();
        img = sample(l);
        img.chunkname = "return 1\n" + "-".repeat(100_000);
        img.install(mem);
        ProtoInfo p = (ProtoInfo) reader(mem, l).read(1, img.pt);
        assertThat(p.chunkname()).hasSize(ProtoReader.MAX_CHUNKNAME_BYTES).startsWith("return 1\n");
    }

    private static void addRef(ByteBuffer b, int off, int ref, long delta) {
        if (ref == 8) {
            b.putLong(off, b.getLong(off) + delta);
        } else {
            b.putInt(off, (int) (b.getInt(off) + delta));
        }
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void hostileImagesNeverThrowAndStayBounded(LuajitLayout l) {
        SplittableRandom rnd = new SplittableRandom(7);
        int valid = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 20_000; i++) {
            ImageMemory mem = new ImageMemory();
            ProtoImage img = sample(l);
            byte[] bytes = img.install(mem);
            if (i % 2 == 0) {
                rnd.nextBytes(bytes); // pure garbage
                if (i % 4 == 0) {
                    bytes[l.gcGct()] = LuajitLayout.GCT_PROTO; // get past the first check more often
                }
            } else {
                for (int k = 0; k < 1 + rnd.nextInt(4); k++) { // a few flipped bytes in a valid image
                    bytes[rnd.nextInt(bytes.length)] ^= (byte) (1 + rnd.nextInt(255));
                }
            }
            ProtoReader r = reader(mem, l);
            ProtoResult res = rnd.nextBoolean() ? r.read(1, img.pt) : r.lookup(1, img.pt, rnd.nextLong());
            if (res instanceof ProtoInfo p) {
                valid++;
                assertThat(p.sizebc()).isLessThanOrEqualTo(bytes.length / 4);
                for (int pc = 0; pc <= p.sizebc(); pc++) {
                    p.line(pc);
                    p.localName(pc, 0);
                }
                LuaFrameNamer namer = new LuaFrameNamer(r, FastFunctionNames.none(), a -> null);
                for (int pc = 0; pc < p.sizebc(); pc++) {
                    namer.callSiteName(1, p, pc);
                }
            }
            assertThat(mem.reads).isLessThan(200);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("%s: 20000 hostile images, %d still valid (flips in unchecked bytes), %d ms%n", l.name(),
                valid, ms);
    }
}
