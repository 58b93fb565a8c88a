package io.moonwalk.elf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of the ELF reader (regression run of the corpus in every build; long runs
 * with {@code scripts/fuzz}). Seeds: small executables and a shared object compiled from testdata.
 * The only acceptable failure is an {@link ElfFormatException} raised by an explicit check; the
 * safety net that converts an unexpected out-of-bounds read means a check is missing.
 */
@Tag("pure")
class ElfFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void parse(byte[] data) throws IOException {
        try (ElfFile elf = ElfFile.of(ByteBuffer.wrap(data), "fuzz")) {
            for (Section s : elf.sections()) {
                s.data();
            }
            elf.functionSymbols(SymbolSource.SYMTAB);
            elf.functionSymbols(SymbolSource.DYNSYM);
            elf.buildId();
            elf.debugLink();
            elf.loadSegments();
            elf.fileOffsetToVaddr(0x1000);
        } catch (ElfFormatException e) {
            if (e.getCause() instanceof RuntimeException) { // the safety net caught an unchecked read
                throw new AssertionError("a bounds check is missing", e);
            }
        }
    }
}
