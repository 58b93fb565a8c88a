package io.moonwalk.unwinder.cfi;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/** Hand-assembles CFI sections for cases real binaries do not contain (other encodings, hostile input). */
final class CfiBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    int offset() {
        return out.size();
    }

    CfiBytes u8(int... values) {
        for (int v : values) {
            out.write(v);
        }
        return this;
    }

    CfiBytes u16(int v) {
        return u8(v & 0xff, (v >>> 8) & 0xff);
    }

    CfiBytes u32(long v) {
        for (int i = 0; i < 4; i++) {
            out.write((int) (v >>> (8 * i)) & 0xff);
        }
        return this;
    }

    CfiBytes u64(long v) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)) & 0xff);
        }
        return this;
    }

    CfiBytes uleb(long v) {
        do {
            int b = (int) (v & 0x7f);
            v >>>= 7;
            out.write(v != 0 ? b | 0x80 : b);
        } while (v != 0);
        return this;
    }

    CfiBytes sleb(long v) {
        while (true) {
            int b = (int) (v & 0x7f);
            v >>= 7;
            boolean done = (v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0);
            out.write(done ? b : b | 0x80);
            if (done) {
                return this;
            }
        }
    }

    CfiBytes bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    CfiBytes str(String s) {
        out.writeBytes(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return u8(0);
    }

    /** Appends a 32-bit-length entry whose body (after the length) is {@code body}, padded to 8 bytes with nops. */
    CfiBytes entry(CfiBytes body) {
        byte[] b = body.toArray();
        int padded = (b.length + 4 + 7) / 8 * 8 - 4;
        u32(padded);
        bytes(b);
        for (int i = b.length; i < padded; i++) {
            out.write(0);
        }
        return this;
    }

    /** Same with the 64-bit DWARF length escape. */
    CfiBytes entry64(CfiBytes body) {
        byte[] b = body.toArray();
        u32(0xffff_ffffL).u64(b.length);
        return bytes(b);
    }

    byte[] toArray() {
        return out.toByteArray();
    }

    ByteBuffer buffer() {
        return ByteBuffer.wrap(toArray());
    }

    /** x86_64 CIE initial instructions: CFA = rsp+8, RA at CFA-8. */
    static CfiBytes x86InitialInstructions(CfiBytes b) {
        return b.u8(0x0c).uleb(7).uleb(8).u8(0x90).uleb(1);
    }

    /** An eh_frame "zR"-style CIE body with the given augmentation string and augmentation data. */
    static CfiBytes ehCie(String aug, byte[] augData) {
        CfiBytes b = new CfiBytes().u32(0).u8(1).str(aug).uleb(1).sleb(-8).u8(16);
        if (aug.startsWith("z")) {
            b.uleb(augData.length).bytes(augData);
        }
        return x86InitialInstructions(b);
    }
}
