package io.moonwalk.unwinder.cfi;

import java.nio.ByteBuffer;

/**
 * Recognises the filler compilers and assemblers put between functions on x86_64: one- and multi-byte nops
 * ({@code 90}, {@code 66 90}, {@code [66|2e]* 0f 1f /0}), {@code int3} and zero fill. Only such bytes may be
 * covered by a neighbouring function's rule: a short gap between FDEs can also hold real code without CFI
 * (glibc's {@code clone} child path is one), and there a borrowed rule would be a wrong unwind.
 */
final class X86Padding {
    private X86Padding() {
    }

    /** Whether {@code code[pos, pos+len)} is nothing but padding instructions ending exactly at the end. */
    static boolean isPadding(ByteBuffer code, int pos, int len) {
        int end = pos + len;
        if (pos < 0 || len <= 0 || end > code.limit()) {
            return false;
        }
        int p = pos;
        while (p < end) {
            int b = Byte.toUnsignedInt(code.get(p));
            if (b == 0x90 || b == 0xcc || b == 0x00) {
                p++;
                continue;
            }
            int q = p;
            while (q < end && (code.get(q) == 0x66 || code.get(q) == 0x2e)) {
                q++;
            }
            if (q == end) {
                return false;
            }
            int op = Byte.toUnsignedInt(code.get(q));
            if (op == 0x90 && q > p) {
                p = q + 1; // 66 90: xchg %ax,%ax
                continue;
            }
            if (op != 0x0f || q + 2 >= end || Byte.toUnsignedInt(code.get(q + 1)) != 0x1f) {
                return false;
            }
            int modrm = Byte.toUnsignedInt(code.get(q + 2));
            if (((modrm >>> 3) & 7) != 0) {
                return false; // 0f 1f /0 is nop; other reg fields are not
            }
            int next = q + 3 + operandBytes(modrm, q + 3 < end ? Byte.toUnsignedInt(code.get(q + 3)) : -1);
            if (next > end) {
                return false;
            }
            p = next;
        }
        return true;
    }

    /** Bytes after the ModRM byte: SIB and displacement. */
    private static int operandBytes(int modrm, int sib) {
        int mod = modrm >>> 6;
        int rm = modrm & 7;
        if (mod == 3) {
            return 0;
        }
        int n = 0;
        if (rm == 4) {
            n++; // SIB
            if (mod == 0 && sib >= 0 && (sib & 7) == 5) {
                n += 4; // SIB with no base: disp32
            }
        } else if (mod == 0 && rm == 5) {
            n += 4; // rip-relative disp32
        }
        if (mod == 1) {
            n += 1;
        } else if (mod == 2) {
            n += 4;
        }
        return n;
    }
}
