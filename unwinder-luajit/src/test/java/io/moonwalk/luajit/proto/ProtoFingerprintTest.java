package io.moonwalk.luajit.proto;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The fingerprint's test vector, and agreement with a C implementation of the documented formula. */
@Tag("tools")
class ProtoFingerprintTest {
    /** GC64 header bytes: byte i = (i * 37 + 11) mod 256, proto at 0x7f0012345600. */
    static byte[] vectorHeader() {
        byte[] h = new byte[0x68];
        for (int i = 0; i < h.length; i++) {
            h[i] = (byte) (i * 37 + 11);
        }
        return h;
    }

    static final long VECTOR_PT = 0x7f0012345600L;

    @Test
    void pinnedTestVector() {
        long fp = ProtoFingerprint.fingerprint(vectorHeader(), VECTOR_PT, KnownLayouts.OPENRESTY_GC64);
        assertThat(Long.toHexString(fp)).isEqualTo(Long.toHexString(VECTOR_FP));
    }

    // computed by the C implementation below (and by Java), pinned so either side changing is caught
    static final long VECTOR_FP = 0x8464354165b31647L;

    @Test
    void ignoresMutableFieldsAndSeesImmutableOnes() {
        LuajitLayout l = KnownLayouts.OPENRESTY_GC64;
        byte[] h = vectorHeader();
        long fp = ProtoFingerprint.fingerprint(h, VECTOR_PT, l);
        for (int off : new int[] {0, 8, l.ptFlags(), l.ptTrace(), l.ptTrace() + 1, 0x18, l.ptUvinfo()}) {
            byte[] m = h.clone();
            m[off] ^= 0x5a;
            assertThat(ProtoFingerprint.fingerprint(m, VECTOR_PT, l)).as("mutable byte %x", off).isEqualTo(fp);
        }
        for (int off : new int[] {l.ptSizebc(), l.ptSizept() + 3, l.ptNumparams(), l.ptFramesize(), l.ptSizekgc(),
                l.ptSizekn(), l.ptSizeuv(), l.ptChunkname() + 7, l.ptFirstline(), l.ptNumline() + 2,
                l.ptLineinfo()}) {
            byte[] m = h.clone();
            m[off] ^= 0x01;
            assertThat(ProtoFingerprint.fingerprint(m, VECTOR_PT, l)).as("immutable byte %x", off).isNotEqualTo(fp);
        }
        assertThat(ProtoFingerprint.fingerprint(h, VECTOR_PT + 8, l)).as("lineinfo - pt").isNotEqualTo(fp);
    }

    @Test
    void cImplementationAgrees() throws Exception {
        Path dir = Files.createTempDirectory("moonwalk-fp");
        try (InputStream in = getClass().getResourceAsStream("/proto/fingerprint.c")) {
            Files.write(dir.resolve("fingerprint.c"), in.readAllBytes());
        }
        run(dir, "gcc", "-O2", "-o", "fingerprint", "fingerprint.c");
        SplittableRandom rnd = new SplittableRandom(11);
        int checked = 0;
        for (LuajitLayout l : KnownLayouts.all()) {
            for (int i = 0; i < 25; i++) {
                byte[] h = i == 0 && l.gc64() ? vectorHeader() : new byte[l.ptSize()];
                if (!(i == 0 && l.gc64())) {
                    rnd.nextBytes(h);
                    if (i % 3 == 0) { // lineinfo NULL case
                        for (int k = 0; k < l.refSize(); k++) {
                            h[l.ptLineinfo() + k] = 0;
                        }
                    }
                }
                long pt = i == 0 && l.gc64() ? VECTOR_PT : rnd.nextLong() & (l.gc64() ? 0x7fff_ffff_fff8L : 0x7fff_fff8L);
                List<String> cmd = new ArrayList<>(List.of(dir.resolve("fingerprint").toString(),
                        Integer.toString(l.refSize()), Long.toHexString(pt), HexFormat.of().formatHex(h)));
                for (int off : new int[] {l.ptSizebc(), l.ptSizept(), l.ptSizekgc(), l.ptSizekn(), l.ptNumparams(),
                        l.ptFramesize(), l.ptSizeuv(), l.ptFirstline(), l.ptNumline(), l.ptChunkname(),
                        l.ptLineinfo()}) {
                    cmd.add(Integer.toString(off));
                }
                String c = run(dir, cmd.toArray(String[]::new)).trim();
                assertThat(c).as("%s #%d", l.name(), i)
                        .isEqualTo(String.format("%016x", ProtoFingerprint.fingerprint(h, pt, l)));
                if (i == 0 && l.gc64()) {
                    System.out.println("fingerprint test vector (C): " + c);
                }
                checked++;
            }
        }
        assertThat(checked).isEqualTo(100);
    }

    private static String run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }
}
