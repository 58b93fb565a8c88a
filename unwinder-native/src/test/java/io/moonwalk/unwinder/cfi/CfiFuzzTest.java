package io.moonwalk.unwinder.cfi;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of CFI parsing and unwind-table building from {@code .eh_frame} and
 * {@code .debug_frame} bytes (seeds: those sections of binaries compiled from testdata). Only a
 * {@link CfiFormatException} may come out, and a built table must answer lookups.
 */
@Tag("pure")
class CfiFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void ehFrame(byte[] data) {
        build(data, true);
    }

    @FuzzTest(maxDuration = "30s")
    void debugFrame(byte[] data) {
        build(data, false);
    }

    private static void build(byte[] data, boolean eh) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        try {
            UnwindTable t = eh
                    ? UnwindTableBuilder.fromEhFrame(b, 0x2000, null, 0, new RuleDictionary())
                    : UnwindTableBuilder.fromDebugFrame(b, new RuleDictionary());
            for (int i = 0; i < t.entryCount(); i++) {
                t.lookup(t.base() + t.pcOffset(i));
            }
        } catch (CfiFormatException expected) {
            // refused with a reason
        }
    }
}
