package io.moonwalk.elf.core;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of the core reader (regression run of the corpus in every build; long runs with
 * {@code scripts/fuzz run 300 io.moonwalk.elf.core.CoreFuzzTest#parse}). Seed: {@link CoreImage#sample()}. The only
 * acceptable failure is an ElfFormatException raised by an explicit check.
 */
@Tag("pure")
class CoreFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void parse(byte[] data) {
        CoreFileTest.parseOrRefuse(data);
    }
}
