package io.moonwalk.luajit.detect;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.elf.ElfFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Detection and extraction on real LuaJIT binaries, against gdb/nm/readelf as ground truth. */
@Tag("tools")
class LuajitDetectorTest {

    static Detection detect(Path file) throws Exception {
        try (ElfFile elf = ElfFile.open(file)) {
            return new LuajitDetector().detect(elf, file);
        }
    }

    static LuajitBinary found(Path file) throws Exception {
        Detection d = detect(file);
        assertThat(d).as("%s: %s", file, d.why().orElse("")).isInstanceOf(Detection.Found.class);
        return d.found().orElseThrow();
    }

    @ParameterizedTest
    @EnumSource(LuajitFixtures.Variant.class)
    void symbolBuildLibraryMatchesGdbAndNm(LuajitFixtures.Variant v) throws Exception {
        checkAgainstGroundTruth(v, v.lib());
    }

    @ParameterizedTest
    @EnumSource(LuajitFixtures.Variant.class)
    void symbolBuildExecutableMatchesGdbAndNm(LuajitFixtures.Variant v) throws Exception {
        checkAgainstGroundTruth(v, v.exe());
    }

    private static void checkAgainstGroundTruth(LuajitFixtures.Variant v, Path file) throws Exception {
        GroundTruth t = GroundTruth.of(file);
        LuajitBinary b = found(file);
        System.out.println(b.summary() + "\n  " + String.join("\n  ", b.evidence().stream().map(Evidence::toString)
                .toList()));
        assertThat(b.gc64()).isEqualTo(t.gc64()).isEqualTo(v.gc64);
        assertThat(b.flavor()).isEqualTo(v.flavor);
        assertThat(b.interpreterStart()).isEqualTo(t.asmBegin());
        assertThat(b.interpreterEnd()).isEqualTo(t.ffiCall());
        LuajitLayout l = b.layout();
        assertThat(l.g2disp()).as("G2DISP").isEqualTo(t.g2disp());
        assertThat(l.gVmstate()).as("vmstate").isEqualTo(t.vmstate());
        assertThat(l.gCurL()).as("cur_L").isEqualTo(t.curL());
        assertThat(l.gJitBase()).as("jit_base").isEqualTo(t.jitBase());
        assertThat(l.lGlref()).as("glref").isEqualTo(t.glref());
        assertThat(l.gJTrace()).as("J->trace").isEqualTo(t.jTrace());
        assertThat(l.gJSizetrace()).as("J->sizetrace").isEqualTo(t.jSizetrace());
        assertThat(l.gJMcarea()).as("J->mcarea").isEqualTo(t.jMcarea());
        assertThat(l.refSize()).isEqualTo(t.gc64() ? 8 : 4);
        // Extracted values carry the instruction they came from; the two taken from the table say so.
        assertThat(b.evidence()).extracting(Evidence::field).contains("g2disp", "vmstate", "jit_base", "J->trace",
                "lGlref", "gCurL", "gJMcarea");
        assertThat(b.evidence()).filteredOn(e -> e.field().equals("gJMcarea")).first()
                .extracting(Evidence::how).asString().contains("known layout");
    }

    @Test
    void installedOpenrestyLibrary() throws Exception {
        checkDebianBinary(LuajitFixtures.INSTALLED_LIB, KnownLayouts.OPENRESTY_GC64, Flavor.OPENRESTY);
    }

    @Test
    void installedLuajitExecutableHasLuajitBuiltIn() throws Exception {
        // /usr/bin/luajit does not link libluajit: the VM is inside the executable.
        assertThat(Run.run(30, "ldd", LuajitFixtures.INSTALLED_EXE.toString())).doesNotContain("libluajit");
        checkDebianBinary(LuajitFixtures.INSTALLED_EXE, KnownLayouts.OPENRESTY_GC64, Flavor.OPENRESTY);
    }

    @Test
    void upstreamDebianLibrary() throws Exception {
        checkDebianBinary(LuajitFixtures.upstreamDebLib(), KnownLayouts.UPSTREAM_GC64, Flavor.UPSTREAM);
    }

    @Test
    void upstreamDebianExecutable() throws Exception {
        checkDebianBinary(LuajitFixtures.upstreamDebExe(), KnownLayouts.UPSTREAM_GC64, Flavor.UPSTREAM);
    }

    private static void checkDebianBinary(Path file, LuajitLayout expected, Flavor flavor) throws Exception {
        List<long[]> fdes = ReadelfInterpreterFde.of(file);
        assertThat(fdes).as("readelf: interpreter FDEs of %s", file).hasSize(1);
        long t0 = System.nanoTime();
        LuajitBinary b = found(file);
        long us = (System.nanoTime() - t0) / 1000;
        System.out.println("detect " + file + ": " + us + " us; " + b.summary() + "\n  "
                + String.join("\n  ", b.evidence().stream().map(Evidence::toString).toList()));
        assertThat(b.interpreterStart()).isEqualTo(fdes.getFirst()[0]);
        assertThat(b.interpreterEnd()).isEqualTo(fdes.getFirst()[1]);
        assertThat(b.layout()).isEqualTo(expected);
        assertThat(b.gc64()).isTrue();
        assertThat(b.flavor()).isEqualTo(flavor);
    }

    @Test
    void detectionTimeOfLibluajit() throws Exception {
        found(LuajitFixtures.INSTALLED_LIB); // warm-up: class loading and JIT
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            found(LuajitFixtures.INSTALLED_LIB);
            best = Math.min(best, System.nanoTime() - t0);
        }
        // Logged, not asserted: timing on a shared 2-core machine is not a correctness property.
        System.out.printf("detection of %s: best of 5 = %.2f ms (budget 50 ms)%n", LuajitFixtures.INSTALLED_LIB,
                best / 1e6);
    }
}
