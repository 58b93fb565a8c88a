package io.moonwalk.elf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ReadStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("pure")
class CoreFileTest {
    @Test
    void readsThreadsFilesAuxvAndCommand() throws IOException {
        try (CoreFile c = CoreFile.of(ByteBuffer.wrap(CoreImage.sample()), "sample")) {
            assertThat(c.pid()).isEqualTo(100);
            assertThat(c.command()).isEqualTo("workload");
            assertThat(c.arguments()).isEqualTo("./workload --arg");
            assertThat(c.threads()).extracting(CoreThread::tid).containsExactly(100, 101);
            assertThat(c.threads().getFirst().rip()).isEqualTo(0x401000L);
            assertThat(c.threads().getFirst().rsp()).isEqualTo(0x7ffd0010L);
            assertThat(c.threads().getFirst().signal()).isEqualTo(11);
            assertThat(c.files()).containsExactly(new MappedFile(0x400000, 0x402000, 0, "/usr/bin/workload"));
            assertThat(c.auxv(CoreFile.AT_SYSINFO_EHDR)).hasValue(0x7fff0000L);
            assertThat(c.mappings(MappedFileSource.NONE)).extracting(Mapping::path, Mapping::perms)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("/usr/bin/workload", "r-xp"),
                            org.assertj.core.groups.Tuple.tuple("", "rw-p"),
                            org.assertj.core.groups.Tuple.tuple("[vdso]", "r-xp"));
            assertThat(c.mappings(MappedFileSource.NONE).getFirst().isFileBacked()).isTrue();
        }
    }

    @Test
    void memoryComesFromTheCoreThenFromTheMappedFile(@TempDir Path dir) throws IOException {
        Path exe = dir.resolve("workload");
        byte[] code = new byte[0x2000];
        code[0x1000] = (byte) 0xc3;
        Files.write(exe, code);
        try (CoreFile c = CoreFile.of(ByteBuffer.wrap(CoreImage.sample()), "sample");
                CoreMemory m = c.memory(f -> f.path().equals("/usr/bin/workload") ? Optional.of(exe) : Optional.empty())) {
            byte[] b = new byte[8];
            assertThat(m.read(0, 0x7ffd0010L, b, 0, 8)).isEqualTo(ReadStatus.OK);
            assertThat(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(0x401234L);
            assertThat(m.read(0, 0x401000L, b, 0, 1)).isEqualTo(ReadStatus.OK);
            assertThat(b[0]).isEqualTo((byte) 0xc3);
            // a read running off the end of the stack segment: the prefix
            assertThat(m.read(0, 0x7ffd0ffcL, b, 0, 8)).isEqualTo(ReadStatus.PARTIAL);
            assertThat(m.lastCount()).isEqualTo(4);
            assertThat(m.read(0, 0x10L, b, 0, 8)).isEqualTo(ReadStatus.UNMAPPED);
        }
        try (CoreFile c = CoreFile.of(ByteBuffer.wrap(CoreImage.sample()), "sample");
                CoreMemory m = c.memory(MappedFileSource.NONE)) {
            assertThat(m.read(0, 0x401000L, new byte[1], 0, 1)).isEqualTo(ReadStatus.UNMAPPED);
        }
    }

    @Test
    void overlappingSegmentsAreRefused() {
        byte[] core = new CoreImage().thread(1, 0, 0, 0)
                .load(0x1000, new byte[16], 0x2000, 6).load(0x2000, new byte[16], 0x1000, 6).build();
        assertThatThrownBy(() -> CoreFile.of(ByteBuffer.wrap(core), "c")).isInstanceOf(ElfFormatException.class)
                .hasMessageContaining("overlaps");
    }

    @Test
    void wrongNotesAreRefusedWithTheirName() {
        byte[] shortStatus = new CoreImage().note("CORE", CoreFile.NT_PRSTATUS, new byte[100]).build();
        assertThatThrownBy(() -> CoreFile.of(ByteBuffer.wrap(shortStatus), "c")).hasMessageContaining("NT_PRSTATUS of 100");
        byte[] badAuxv = new CoreImage().thread(1, 0, 0, 0).note("CORE", CoreFile.NT_AUXV, new byte[20]).build();
        assertThatThrownBy(() -> CoreFile.of(ByteBuffer.wrap(badAuxv), "c")).hasMessageContaining("NT_AUXV");
        ByteBuffer files = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(4096);
        byte[] hugeFiles = new CoreImage().thread(1, 0, 0, 0).note("CORE", CoreFile.NT_FILE, files.array()).build();
        assertThatThrownBy(() -> CoreFile.of(ByteBuffer.wrap(hugeFiles), "c")).hasMessageContaining("NT_FILE counts");
        byte[] noThreads = new CoreImage().process(1, "x", "x").build();
        assertThatThrownBy(() -> CoreFile.of(ByteBuffer.wrap(noThreads), "c")).hasMessageContaining("no NT_PRSTATUS");
        // a note of another owner with a CORE type number is not read as one
        byte[] other = new CoreImage().thread(1, 0, 0, 0).note("LINUX", CoreFile.NT_PRSTATUS, new byte[8]).build();
        try (CoreFile c = CoreFile.of(ByteBuffer.wrap(other), "c")) {
            assertThat(c.threads()).hasSize(1);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void everyTruncationAndManyMutationsGiveAClearErrorOrAParse() {
        byte[] good = CoreImage.sample();
        for (int len = 0; len < good.length; len += 3) {
            parseOrRefuse(java.util.Arrays.copyOf(good, len));
        }
        Random r = new Random(12);
        for (int i = 0; i < 3000; i++) {
            byte[] b = good.clone();
            int flips = 1 + r.nextInt(8);
            for (int k = 0; k < flips; k++) {
                b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            }
            parseOrRefuse(b);
        }
    }

    static void parseOrRefuse(byte[] b) {
        try (CoreFile c = CoreFile.of(ByteBuffer.wrap(b), "mutant")) {
            c.mappings(MappedFileSource.NONE);
            try (CoreMemory m = c.memory(MappedFileSource.NONE)) {
                byte[] buf = new byte[64];
                for (CoreThread t : c.threads()) {
                    m.read(0, t.rsp(), buf, 0, buf.length);
                    m.read(0, t.rip(), buf, 0, buf.length);
                }
            }
        } catch (ElfFormatException e) {
            if (e.getCause() instanceof RuntimeException) {
                throw new AssertionError("a bounds check is missing", e);
            }
            assertThat(e.getMessage()).startsWith("mutant: ");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
