package io.moonwalk.process;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.Tools;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Against a real child process (a C fixture compiled by gcc) whose memory content is known: a static
 * array filled with a formula, and one readable page followed by an unmapped one.
 */
@Tag("tools")
class ProcessMemoryTest {
    private static Process child;
    private static int pid;
    private static long pattern;
    private static int patternSize;
    private static long edge;
    private static int page;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("moonwalk-memfixture");
        Path src = dir.resolve("memfixture.c");
        try (InputStream in = ProcessMemoryTest.class.getResourceAsStream("/process/memfixture.c")) {
            Files.write(src, in.readAllBytes());
        }
        Tools.run(dir, "gcc", "-O1", "-o", "memfixture", "memfixture.c");
        child = new ProcessBuilder(dir.resolve("memfixture").toString()).start();
        pid = (int) child.pid();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
        for (String line; (line = out.readLine()) != null && !line.equals("ready"); ) {
            String[] t = line.split(" ");
            long addr = Long.parseUnsignedLong(t[1].substring(2), 16);
            if (t[0].equals("pattern")) {
                pattern = addr;
                patternSize = Integer.parseInt(t[2]);
            } else if (t[0].equals("edge")) {
                edge = addr;
                page = Integer.parseInt(t[2]);
            }
        }
        assertThat(pattern).as("fixture printed its addresses").isNotZero();
        assertThat(edge).isNotZero();
    }

    @AfterAll
    static void stop() throws Exception {
        if (child != null) {
            child.getOutputStream().close();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
    }

    private static byte expected(int i) {
        return (byte) (i * 31 + 7);
    }

    @Test
    void readsKnownBytesAtAnyOffsetAndSize() {
        try (ProcessMemory mem = new ProcessMemory()) {
            byte[] dst = new byte[ProcessMemory.MAX_READ + 8];
            int[][] cases = {{0, 1}, {1, 7}, {4093, 9}, {12345, 4096}, {0, ProcessMemory.MAX_READ},
                    {patternSize - 3, 3}};
            for (int[] c : cases) {
                assertThat(mem.read(pid, pattern + c[0], dst, 8, c[1])).as("read %d@%d", c[1], c[0])
                        .isEqualTo(ReadStatus.OK);
                assertThat(mem.lastCount()).isEqualTo(c[1]);
                for (int i = 0; i < c[1]; i++) {
                    if (dst[8 + i] != expected(c[0] + i)) {
                        throw new AssertionError("byte " + (c[0] + i) + " differs");
                    }
                }
            }
            assertThat(mem.buffer().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0)).isEqualTo(expected(patternSize - 3));
        }
    }

    @Test
    void partialReadAcrossTheEndOfAMapping() {
        try (ProcessMemory mem = new ProcessMemory()) {
            byte[] dst = new byte[64];
            assertThat(mem.read(pid, edge + page - 16, dst, 0, 64)).isEqualTo(ReadStatus.PARTIAL);
            assertThat(mem.lastCount()).isEqualTo(16);
            for (int i = 0; i < 16; i++) {
                assertThat(dst[i]).isEqualTo((byte) 0xab);
            }
            assertThat(mem.read(pid, edge + page, dst, 0, 8)).isEqualTo(ReadStatus.UNMAPPED);
            assertThat(mem.lastCount()).isZero();
            assertThat(mem.lastErrno()).isEqualTo(14);
        }
    }

    @Test
    void garbageAddressesAndBadLengths() {
        try (ProcessMemory mem = new ProcessMemory()) {
            byte[] dst = new byte[16];
            long[] garbage = {0, 8, 0xffff_ffff_ff60_0000L, 0x8000_0000_0000_0000L, -1L, 0x0000_7fff_ffff_fff8L};
            for (long a : garbage) {
                assertThat(mem.read(pid, a, dst, 0, 16)).as("address %x", a)
                        .isIn(ReadStatus.UNMAPPED, ReadStatus.PARTIAL);
            }
            assertThat(mem.read(pid, pattern, dst, 0, 17)).isEqualTo(ReadStatus.TOO_LARGE);
            assertThat(mem.read(pid, pattern, dst, -1, 4)).isEqualTo(ReadStatus.TOO_LARGE);
            assertThat(mem.readToBuffer(pid, pattern, ProcessMemory.MAX_READ + 1)).isEqualTo(ReadStatus.TOO_LARGE);
            assertThat(mem.read(pid, pattern, dst, 0, 0)).isEqualTo(ReadStatus.OK);
            assertThat(mem.failedReads()).isGreaterThanOrEqualTo(garbage.length + 3);
        }
    }

    @Test
    void exitedProcessIsReportedAsGone() throws Exception {
        Process p = new ProcessBuilder("true").start();
        int gone = (int) p.pid();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        try (ProcessMemory mem = new ProcessMemory()) {
            byte[] dst = new byte[8];
            // the pid may in theory be reused; then EFAULT at this address is also fine, never OK data
            assertThat(mem.read(gone, pattern, dst, 0, 8)).isIn(ReadStatus.NO_PROCESS, ReadStatus.UNMAPPED);
            assertThat(mem.read(Integer.MAX_VALUE, 0x1000, dst, 0, 8)).isEqualTo(ReadStatus.NO_PROCESS);
            assertThat(mem.lastErrno()).isEqualTo(3);
        }
    }

    @Test
    void readingNeverStopsTheTarget() throws Exception {
        try (ProcessMemory mem = new ProcessMemory()) {
            byte[] dst = new byte[4096];
            for (int i = 0; i < 20_000; i++) {
                mem.read(pid, pattern + (i % 1000), dst, 0, 4096);
            }
            String status = Files.readString(Path.of("/proc/" + pid + "/status"));
            assertThat(status).contains("TracerPid:\t0");
            assertThat(status).doesNotContain("State:\tt").doesNotContain("State:\tT");
            assertThat(mem.reads()).isEqualTo(20_000);
        }
    }
}
