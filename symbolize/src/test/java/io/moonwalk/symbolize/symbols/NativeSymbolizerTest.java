package io.moonwalk.symbolize.symbols;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.Fixtures;
import io.moonwalk.testfixtures.Tools;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Symbolizes addresses in live fixture processes; ground truth from nm and readelf on the same files. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@Tag("tools")
class NativeSymbolizerTest {
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopChildren() throws InterruptedException {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Starts the fixture and waits for it to print "ready"; returns the lines printed before it. */
    private List<String> start(List<String> lines, Path exe, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(exe.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        started.add(p);
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
        String line;
        while ((line = r.readLine()) != null && !line.equals("ready")) {
            lines.add(line);
        }
        assertThat(line).as("fixture output: %s", lines).isEqualTo("ready");
        return lines;
    }

    private int pid() {
        return (int) started.get(started.size() - 1).pid();
    }

    private static Tools.NmSymbol nmSymbol(Path file, String name, boolean dynamic) {
        return Tools.nm(file, dynamic).stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in nm output of " + file));
    }

    /** Where the ELF address {@code vaddr} of {@code file} is loaded in the process, computed from readelf + maps. */
    private static long runtimeAddress(ProcessMaps maps, Path file, String mappedName, long vaddr) {
        long fileOffset = -1;
        for (Tools.ReadelfLoad l : Tools.loads(file)) {
            if (vaddr >= l.vaddr() && vaddr < l.vaddr() + l.filesz()) {
                fileOffset = vaddr - l.vaddr() + l.offset();
            }
        }
        assertThat(fileOffset).as("0x%x in a PT_LOAD of %s", vaddr, file).isNotNegative();
        for (Mapping m : maps.mappings()) {
            if (m.fileName().equals(mappedName) && fileOffset >= m.offset() && fileOffset < m.offset() + m.size()) {
                return m.start() + fileOffset - m.offset();
            }
        }
        throw new AssertionError("no mapping of " + mappedName + " holds file offset 0x" + Long.toHexString(fileOffset));
    }

    @Test
    void resolvesLibraryAndExecutableFunctionsInALiveProcess() throws IOException {
        Fixtures f = Fixtures.get();
        start(new ArrayList<>(), f.exe);
        ProcessMaps maps = ProcessMaps.read(pid());
        Tools.NmSymbol work = nmSymbol(f.lib, "fix_work", false);
        Tools.NmSymbol spin = nmSymbol(f.exe, "main_spin", false);
        long workAt = runtimeAddress(maps, f.lib, "libfix.so", work.value());
        long spinAt = runtimeAddress(maps, f.exe, "fixmain", spin.value());

        NativeSymbolizer symbolizer = new NativeSymbolizer(16);
        ProcessSymbols ps = symbolizer.forProcess(pid());
        Resolved r = ps.resolve(workAt + 4, false);
        assertThat(r.symbol()).isEqualTo("fix_work");
        assertThat(r.symbolOffset()).isEqualTo(4);
        assertThat(r.module()).isEqualTo("libfix.so");
        assertThat(r.modulePath()).isEqualTo(f.lib.toRealPath().toString());
        assertThat(r.elfAddress()).isEqualTo(work.value() + 4);
        assertThat(r.buildId()).isEqualTo(Tools.buildId(f.lib));

        Resolved s = ps.resolve(spinAt + 1, false);
        assertThat(s.symbol()).isEqualTo("main_spin");
        assertThat(s.module()).isEqualTo("fixmain");
        assertThat(s.buildId()).isEqualTo(Tools.buildId(f.exe));

        // A return address just past fix_work's last byte belongs to the call inside fix_work.
        assertThat(ps.resolve(workAt + work.size(), true).symbol()).isEqualTo("fix_work");
        assertThat(ps.resolve(workAt, true).symbol()).isNotEqualTo("fix_work");

        // Anonymous or unmapped memory is not attributed to any file.
        assertThat(ps.resolve(0x1000, false)).isNull();

        assertThat(symbolizer.cacheMisses()).isEqualTo(2);
        assertThat(symbolizer.loadFailures()).isZero();
        long hits = symbolizer.cacheHits();
        Resolved again = symbolizer.symbolize(pid(), workAt + 8);
        assertThat(again.symbol()).isEqualTo("fix_work");
        assertThat(symbolizer.cacheMisses()).isEqualTo(2);
        assertThat(symbolizer.cacheHits()).isEqualTo(hits + 1);
    }

    @Test
    void strippedBinariesResolveExportsOnly() throws IOException {
        Fixtures f = Fixtures.get();
        start(new ArrayList<>(), f.exeStripped);
        ProcessMaps maps = ProcessMaps.read(pid());
        Tools.NmSymbol work = nmSymbol(f.libStripped, "fix_work", true);
        long workAt = runtimeAddress(maps, f.libStripped, "libfix.so", work.value());
        Resolved r = new NativeSymbolizer().forProcess(pid()).resolve(workAt + 2, false);
        assertThat(r.symbol()).isEqualTo("fix_work");
        assertThat(r.modulePath()).isEqualTo(f.libStripped.toRealPath().toString());
    }

    @Test
    void deletedFilesResolveThroughMapFiles(@TempDir Path tmp) throws IOException {
        Fixtures f = Fixtures.get();
        Path exe = tmp.resolve("fixmain");
        Path lib = tmp.resolve("libfix.so");
        Files.copy(f.exe, exe);
        Files.copy(f.lib, lib);
        exe.toFile().setExecutable(true);
        start(new ArrayList<>(), exe);
        Files.delete(lib);
        Files.delete(exe);
        ProcessMaps maps = ProcessMaps.read(pid());
        Mapping libMapping = maps.mappings().stream().filter(m -> m.fileName().equals("libfix.so"))
                .findFirst().orElseThrow();
        assertThat(libMapping.isDeleted()).isTrue();

        long workAt = runtimeAddress(maps, f.lib, "libfix.so", nmSymbol(f.lib, "fix_work", false).value());
        NativeSymbolizer symbolizer = new NativeSymbolizer();
        Resolved r = symbolizer.forProcess(pid()).resolve(workAt, false);
        assertThat(r.symbol()).isEqualTo("fix_work");
        assertThat(r.modulePath()).isEqualTo(lib.toString());
        assertThat(symbolizer.loadFailures()).isZero();
    }

    @Test
    void corruptCodeFileFailsOnceAndIsRemembered(@TempDir Path tmp) throws IOException {
        Path garbage = tmp.resolve("garbage.bin");
        byte[] junk = new byte[8192];
        new Random(42).nextBytes(junk);
        Files.write(garbage, junk);
        List<String> out = start(new ArrayList<>(), Fixtures.get().exe, "map", garbage.toString());
        long at = Long.parseUnsignedLong(out.get(0).replace("mapped 0x", ""), 16) + 0x10;

        NativeSymbolizer symbolizer = new NativeSymbolizer();
        Resolved r = symbolizer.forProcess(pid()).resolve(at, false);
        assertThat(r.symbol()).isNull();
        assertThat(r.module()).isEqualTo("garbage.bin");
        assertThat(r.fileOffset()).isEqualTo(0x10);
        assertThat(symbolizer.loadFailures()).isEqualTo(1);
        assertThat(symbolizer.lastLoadFailure()).contains("magic");

        // A new view of the same process: the failure comes from the cache, the file is not parsed again.
        long misses = symbolizer.cacheMisses();
        assertThat(symbolizer.forProcess(pid()).resolve(at, false).symbol()).isNull();
        assertThat(symbolizer.loadFailures()).isEqualTo(1);
        assertThat(symbolizer.cacheMisses()).isEqualTo(misses);
    }

    @Test
    void vdsoResolvesWithTheKernelsImage(@TempDir Path tmp) throws IOException {
        start(new ArrayList<>(), Fixtures.get().exe);
        ProcessMaps maps = ProcessMaps.read(pid());
        Mapping vdso = maps.mappings().stream().filter(Mapping::isVdso).findFirst().orElseThrow();
        // Ground truth: the child's own vDSO bytes, dumped to a file and read by nm.
        Path dump = tmp.resolve("vdso.so");
        ByteBuffer image = ByteBuffer.allocate((int) vdso.size());
        try (FileChannel mem = FileChannel.open(Path.of("/proc/" + pid() + "/mem"), StandardOpenOption.READ)) {
            while (image.hasRemaining()) {
                assertThat(mem.read(image, vdso.start() + image.position())).isPositive();
            }
        }
        Files.write(dump, image.array());
        Map<Long, Set<String>> aliases = Tools.aliases(Tools.nmCode(dump, true));
        Tools.NmSymbol gettime = nmSymbol(dump, "__vdso_clock_gettime", true);
        long at = runtimeAddress(maps, dump, "[vdso]", gettime.value());

        Resolved r = new NativeSymbolizer().forProcess(pid()).resolve(at + 1, false);
        assertThat(aliases.get(gettime.value())).contains(r.symbol());
        assertThat(r.module()).isEqualTo("[vdso]");
        assertThat(r.buildId()).isEqualTo(Tools.buildId(dump));
    }

    @Test
    void cacheIsBoundedAndEvictsLeastRecentlyUsed() throws IOException {
        Fixtures f = Fixtures.get();
        start(new ArrayList<>(), f.exe);
        NativeSymbolizer symbolizer = new NativeSymbolizer(1);
        ProcessSymbols ps = symbolizer.forProcess(pid());
        ProcessMaps maps = ps.maps();
        long workAt = runtimeAddress(maps, f.lib, "libfix.so", nmSymbol(f.lib, "fix_work", false).value());
        long spinAt = runtimeAddress(maps, f.exe, "fixmain", nmSymbol(f.exe, "main_spin", false).value());
        long mallocAt = -1;
        for (Mapping m : maps.mappings()) {
            if (m.isExecutable() && m.fileName().startsWith("libc.so")) {
                mallocAt = m.start();
            }
        }
        assertThat(ps.resolve(workAt, false).symbol()).isEqualTo("fix_work");
        assertThat(ps.resolve(spinAt, false).symbol()).isEqualTo("main_spin");
        assertThat(ps.resolve(mallocAt, false).module()).startsWith("libc.so");
        assertThat(symbolizer.cacheEntries()).isLessThanOrEqualTo(symbolizer.maxCacheEntries()).isEqualTo(2);
        // libfix.so was evicted: a fresh view has to parse it again.
        long misses = symbolizer.cacheMisses();
        assertThat(symbolizer.forProcess(pid()).resolve(workAt, false).symbol()).isEqualTo("fix_work");
        assertThat(symbolizer.cacheMisses()).isEqualTo(misses + 1);
    }
}
