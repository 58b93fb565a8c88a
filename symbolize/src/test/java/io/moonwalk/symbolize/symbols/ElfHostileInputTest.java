package io.moonwalk.symbolize.symbols;

import org.junit.jupiter.api.Tag;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.Section;
import io.moonwalk.elf.SymbolSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.moonwalk.testfixtures.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Truncated and bit-flipped real ELF files: every outcome must be a valid result or an
 * {@link ElfFormatException} raised by an explicit check (not the safety net that converts an
 * unexpected out-of-bounds read, which would mean a missing check).
 */
@Tag("tools")
class ElfHostileInputTest {
    private int rejected;
    private int accepted;

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void truncatedFilesAreRejectedOrReadable(@TempDir Path tmp) throws IOException {
        byte[] good = Files.readAllBytes(Fixtures.get().lib);
        Path file = tmp.resolve("truncated.so");
        for (int len = 0; len < good.length; len += len < 1024 ? 1 : 97) {
            byte[] prefix = java.util.Arrays.copyOf(good, len);
            exercise(() -> ElfFile.of(ByteBuffer.wrap(prefix), "prefix"));
            if (len % 31 == 0) {
                // Also through a real file: the mapped path and the size checks of open().
                Files.write(file, prefix);
                exercise(() -> ElfFile.open(file));
            }
        }
        assertThat(rejected).isGreaterThan(1000);
        // The section header table sits at the end, so every strict prefix loses it.
        assertThat(accepted).isZero();
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void randomByteFlipsNeverEscapeAsRuntimeErrors() {
        byte[] good;
        try {
            good = Files.readAllBytes(Fixtures.get().lib);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        Random rnd = new Random(0x6d6f6f6eL);
        for (int iter = 0; iter < 4000; iter++) {
            byte[] bad = good.clone();
            int flips = 1 + rnd.nextInt(8);
            for (int k = 0; k < flips; k++) {
                // Bias towards the headers and tables where the interesting fields live.
                int pos = rnd.nextBoolean() ? rnd.nextInt(Math.min(bad.length, 128)) : rnd.nextInt(bad.length);
                if (rnd.nextInt(4) == 0) {
                    pos = bad.length - 1 - rnd.nextInt(Math.min(bad.length, 24 * 64)); // section headers
                }
                bad[pos] = rnd.nextInt(3) == 0 ? (byte) 0xff : (byte) rnd.nextInt(256);
            }
            String label = "flip#" + iter;
            exercise(() -> ElfFile.of(ByteBuffer.wrap(bad), label));
        }
        assertThat(accepted + rejected).isEqualTo(4000);
        assertThat(rejected).isPositive();
        assertThat(accepted).isPositive();
    }

    @Test
    void hugeCountsAreCappedNotAllocated() throws IOException {
        byte[] bad = Files.readAllBytes(Fixtures.get().lib);
        ByteBuffer b = ByteBuffer.wrap(bad).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        // e_shnum = 0 selects extended numbering: the count comes from section 0's sh_size.
        long shoff = b.getLong(40);
        b.putShort(60, (short) 0);
        b.putLong((int) shoff + 32, Long.MAX_VALUE);
        try {
            ElfFile.of(ByteBuffer.wrap(bad), "huge");
            fail("accepted 2^63 sections");
        } catch (ElfFormatException e) {
            assertThat(e).hasMessageContaining("exceeds the limit");
        }
    }

    private interface Opener {
        ElfFile open() throws IOException;
    }

    private void exercise(Opener opener) {
        try (ElfFile elf = opener.open()) {
            for (Section s : elf.sections()) {
                s.data();
            }
            elf.functionSymbols(SymbolSource.SYMTAB);
            elf.functionSymbols(SymbolSource.DYNSYM);
            elf.buildId();
            elf.debugLink();
            elf.fileOffsetToVaddr(0x1000);
            SymbolTable t = SymbolTable.build(elf);
            for (int i = 0; i < t.size(); i++) {
                assertThat(t.lookup(t.address(i))).isNotNegative();
                t.name(i);
            }
            accepted++;
        } catch (ElfFormatException e) {
            if (e.getMessage().contains("unexpected read past a checked bound")) {
                throw new AssertionError("a bounds check is missing", e);
            }
            assertThat(e.getMessage()).isNotBlank();
            rejected++;
        } catch (IOException e) {
            throw new AssertionError("unexpected I/O failure", e);
        }
    }

    @Test
    void fileChannelOwnershipIsTaken(@TempDir Path tmp) throws IOException {
        Path copy = tmp.resolve("lib.so");
        Files.copy(Fixtures.get().lib, copy);
        FileChannel ch = FileChannel.open(copy, StandardOpenOption.READ);
        try (ElfFile elf = ElfFile.open(ch, "channel")) {
            assertThat(elf.section(".text")).isPresent();
        }
        assertThat(ch.isOpen()).isFalse();
    }
}
