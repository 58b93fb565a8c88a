package io.moonwalk.luajit.detect;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of the x86-64 decoder that finds LuaJIT's offsets in the interpreter
 * (seeds: machine code compiled from testdata). A linear sweep over arbitrary bytes must end with
 * decoded instructions or an {@link X86DecodeException}, and every length must move forward within
 * the buffer.
 */
@Tag("pure")
class X86DecoderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void sweep(byte[] code) {
        ByteBuffer b = ByteBuffer.wrap(code);
        int off = 0;
        while (off < code.length) {
            X86Instruction insn;
            try {
                insn = X86Decoder.decode(b, off, 0x400000);
            } catch (X86DecodeException e) {
                off++;
                continue;
            }
            if (insn.length() <= 0 || off + insn.length() > code.length) {
                throw new AssertionError("instruction at " + off + " has length " + insn.length()
                        + " in a " + code.length + "-byte buffer");
            }
            off += insn.length();
        }
    }
}
