package io.moonwalk.luajit.detect;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The encodings the detector's patterns rely on, and hostile byte sequences. */
@Tag("pure")
class X86DecoderTest {
    private static X86Instruction decode(String hex) throws X86DecodeException {
        return X86Decoder.decode(ByteBuffer.wrap(HexFormat.of().parseHex(hex.replace(" ", ""))), 0, 0x1000);
    }

    @Test
    void setVmstateIsMovlImmediateToR14() throws Exception {
        X86Instruction in = decode("41 c7 86 10 f1 ff ff ff ff ff ff"); // movl $-1,-0xef0(%r14)
        assertThat(in.length()).isEqualTo(11);
        assertThat(in.is(0xc7)).isTrue();
        assertThat(in.reg()).isZero();
        assertThat(in.isMemoryAt(X86Instruction.R14)).isTrue();
        assertThat(in.disp()).isEqualTo(-0xef0);
        assertThat(in.imm()).isEqualTo(-1);
        assertThat(in.operandSize()).isEqualTo(4);
    }

    @Test
    void jitBaseClearIsMovqZero() throws Exception {
        X86Instruction in = decode("49 c7 86 d0 f1 ff ff 00 00 00 00"); // movq $0,-0xe30(%r14)
        assertThat(in.operandSize()).isEqualTo(8);
        assertThat(in.disp()).isEqualTo(-0xe30);
        assertThat(in.imm()).isZero();
    }

    @Test
    void leaOfGIntoRdi() throws Exception {
        X86Instruction in = decode("49 8d be 58 f0 ff ff"); // lea -0xfa8(%r14),%rdi
        assertThat(in.is(0x8d)).isTrue();
        assertThat(in.reg()).isEqualTo(X86Instruction.RDI);
        assertThat(in.isMemoryAt(X86Instruction.R14)).isTrue();
        assertThat(in.disp()).isEqualTo(-0xfa8);
    }

    @Test
    void traceArrayIndexUsesSib() throws Exception {
        X86Instruction in = decode("48 8b 0c c1"); // mov (%rcx,%rax,8),%rcx
        assertThat(in.base()).isEqualTo(X86Instruction.RCX);
        assertThat(in.index()).isEqualTo(X86Instruction.RAX);
        assertThat(in.scale()).isEqualTo(8);
        assertThat(in.reg()).isEqualTo(X86Instruction.RCX);
    }

    @Test
    void addressSizePrefixIsNotR14() throws Exception {
        X86Instruction in = decode("67 41 c7 86 10 f1 ff ff ff ff ff ff"); // movl $-1,-0xef0(%r14d)
        assertThat(in.addr32()).isTrue();
        assertThat(in.isMemoryAt(X86Instruction.R14)).isFalse();
    }

    @Test
    void ripRelativeAndMovabs() throws Exception {
        assertThat(decode("48 8d 05 10 00 00 00").base()).isEqualTo(X86Instruction.RIP);
        X86Instruction movabs = decode("48 b8 88 77 66 55 44 33 22 11");
        assertThat(movabs.length()).isEqualTo(10);
        assertThat(movabs.imm()).isEqualTo(0x1122334455667788L);
        assertThat(movabs.rm()).isEqualTo(X86Instruction.RAX);
    }

    @Test
    void truncatedInstructionIsAnError() {
        assertThatThrownBy(() -> decode("41 c7 86 10 f1")).isInstanceOf(X86DecodeException.class)
                .hasMessageContaining("past the end");
    }

    @Test
    void tooManyPrefixesIsAnError() {
        assertThatThrownBy(() -> decode("66".repeat(15) + "90")).isInstanceOf(X86DecodeException.class)
                .hasMessageContaining("longer than 15");
    }

    @Test
    void evexAndInvalidOpcodesAreErrors() {
        assertThatThrownBy(() -> decode("62 f1 7c 48 10 00")).isInstanceOf(X86DecodeException.class);
        assertThatThrownBy(() -> decode("06")).isInstanceOf(X86DecodeException.class);
    }

    @Test
    void everyByteSequenceDecodesOrFailsWithinFifteenBytes() {
        java.util.Random r = new java.util.Random(42);
        byte[] buf = new byte[32];
        for (int i = 0; i < 50_000; i++) {
            r.nextBytes(buf);
            try {
                X86Instruction in = X86Decoder.decode(ByteBuffer.wrap(buf), 0, 0);
                assertThat(in.length()).isBetween(1, 15);
            } catch (X86DecodeException expected) {
                // fine: a clean error
            }
        }
    }
}
