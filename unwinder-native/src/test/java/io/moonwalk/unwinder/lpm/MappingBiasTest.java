package io.moonwalk.unwinder.lpm;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.testfixtures.Fixtures;
import io.moonwalk.testfixtures.Tools;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Bias against a live process: {@code bias + nm address} of a function must land in the file's r-x mapping, and
 * the process memory there must hold the bytes the file has at that function's file offset (from readelf's
 * program headers, not from our ELF reader).
 */
@Tag("tools")
class MappingBiasTest {
    private static final Pattern LOAD = Pattern.compile(
            "^\\s*LOAD\\s+0x([0-9a-f]+)\\s+0x([0-9a-f]+)\\s+0x[0-9a-f]+\\s+0x([0-9a-f]+)\\s+0x([0-9a-f]+)");

    @Test
    void pieExecutableSharedLibraryAndLibc() throws Exception {
        Fixtures f = Fixtures.get();
        checkLiveProcess(f.exe, List.of(new Target(f.exe, "main_spin", false), new Target(f.lib, "fix_work", false),
                new Target(Path.of("/usr/lib/x86_64-linux-gnu/libc.so.6"), "malloc", true)), false);
    }

    @Test
    void nonPieExecutableHasZeroBias() throws Exception {
        Fixtures f = Fixtures.get();
        checkLiveProcess(f.exeNoPie, List.of(new Target(f.exeNoPie, "main_spin", false),
                new Target(f.lib, "fix_mix", false)), true);
    }

    @Test
    void offsetNotLoadedByAnySegmentHasNoBias() throws Exception {
        Fixtures f = Fixtures.get();
        try (ElfFile elf = ElfFile.open(f.lib)) {
            long beyond = (Files.size(f.lib) + 0x10000) & ~0xfffL;
            Mapping m = new Mapping(0x7f00_0000_0000L, 0x7f00_0000_1000L, "r--p", beyond, 8, 1, 1234, f.lib.toString());
            assertThat(MappingBias.of(m, elf)).isEmpty();
        }
    }

    private record Target(Path file, String symbol, boolean dynamicSymbols) {
    }

    private static void checkLiveProcess(Path exe, List<Target> targets, boolean expectZeroExeBias) throws Exception {
        Process p = new ProcessBuilder(exe.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
            String line = out.readLine();
            assertThat(line).as("fixture started").isEqualTo("ready");
            int pid = (int) p.pid();
            ProcessMaps maps = ProcessMaps.read(pid);
            for (Target t : targets) {
                Path real = t.file().toRealPath();
                List<Mapping> mine = new ArrayList<>();
                for (Mapping m : maps.mappings()) {
                    if (m.isFileBacked() && Path.of(m.filePath()).toRealPath().equals(real)) {
                        mine.add(m);
                    }
                }
                assertThat(mine).as("%s mapped in %d", real, pid).isNotEmpty();
                long bias;
                try (ElfFile elf = ElfFile.open(real)) {
                    Mapping code = mine.stream().filter(Mapping::isExecutable).findFirst().orElseThrow();
                    OptionalLong fromCode = MappingBias.of(code, elf);
                    assertThat(fromCode).as("bias of %s", code).isPresent();
                    bias = fromCode.getAsLong();
                    for (Mapping m : mine) {
                        // The headers' mapping (offset 0) and every executable one are unambiguous.
                        if (m.isExecutable() || m.offset() == 0) {
                            assertThat(MappingBias.of(m, elf)).as("mappings of %s agree: %s", real, m)
                                    .hasValue(bias);
                        }
                    }
                }
                if (expectZeroExeBias && t.file().equals(exe)) {
                    assertThat(bias).as("non-PIE executable").isZero();
                }
                long vaddr = nmAddress(real, t.symbol(), t.dynamicSymbols());
                long runtime = bias + vaddr;
                Mapping at = maps.find(runtime);
                assertThat(at).as("%s at %x", t.symbol(), runtime).isNotNull();
                assertThat(at.isExecutable()).as("%s lands in %s", t.symbol(), at).isTrue();
                assertThat(Path.of(at.filePath()).toRealPath()).isEqualTo(real);
                byte[] inMemory = readMemory(pid, runtime, 32);
                byte[] inFile = readFile(real, fileOffsetFromReadelf(real, vaddr), 32);
                assertThat(inMemory).as("%s bytes at %x vs file", t.symbol(), runtime).isEqualTo(inFile);
                System.out.printf("[bias] %-14s %-10s bias=0x%x vaddr=0x%x runtime=0x%x%n", real.getFileName(),
                        t.symbol(), bias, vaddr, runtime);
            }
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static long nmAddress(Path file, String symbol, boolean dynamic) {
        for (Tools.NmSymbol s : Tools.nm(file, dynamic)) {
            if (s.name().equals(symbol) && "Tti".indexOf(s.type()) >= 0) {
                return s.value();
            }
        }
        throw new AssertionError(symbol + " not defined in " + file + " (nm)");
    }

    private static long fileOffsetFromReadelf(Path file, long vaddr) {
        for (String l : Tools.run(null, "readelf", "-lW", file.toString()).split("\n")) {
            Matcher m = LOAD.matcher(l);
            if (m.find()) {
                long off = Long.parseUnsignedLong(m.group(1), 16);
                long va = Long.parseUnsignedLong(m.group(2), 16);
                long filesz = Long.parseUnsignedLong(m.group(3), 16);
                if (vaddr >= va && vaddr < va + filesz) {
                    return vaddr - va + off;
                }
            }
        }
        throw new AssertionError("no LOAD segment of " + file + " holds 0x" + Long.toHexString(vaddr));
    }

    private static byte[] readMemory(int pid, long address, int n) throws Exception {
        try (FileChannel mem = FileChannel.open(Path.of("/proc/" + pid + "/mem"), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (mem.read(b, address + b.position()) <= 0) {
                    throw new AssertionError("short read of /proc/" + pid + "/mem at " + Long.toHexString(address));
                }
            }
            return b.array();
        }
    }

    private static byte[] readFile(Path file, long offset, int n) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) <= 0) {
                    throw new AssertionError("short read of " + file);
                }
            }
            return b.array();
        }
    }
}
