package io.moonwalk.luajit.detect;

import java.nio.ByteBuffer;

/**
 * A length-and-operand decoder for x86-64 (64-bit mode) general-purpose, x87, SSE and VEX
 * instructions: prefixes, REX, ModRM, SIB, displacements and immediates. It does not know
 * mnemonics; callers recognise instructions by map, opcode and operands. Anything it does not know
 * (EVEX, 3DNow!, opcodes invalid in 64-bit mode, more than 15 bytes) is an error, so a linear sweep
 * either stays on instruction boundaries or stops — it never silently slips out of step.
 */
public final class X86Decoder {
    private static final int MAX_LENGTH = 15;

    // Per-opcode properties of the one-byte and 0F maps.
    private static final int MODRM = 1;
    private static final int IMM8 = 2;
    /** imm16 with a 66 prefix, else imm32. */
    private static final int IMMZ = 4;
    private static final int IMM16 = 8;
    private static final int INVALID = 16;
    /** mov r, imm: imm64 with REX.W, else like IMMZ. */
    private static final int IMMV = 32;
    /** mov al/eax, moffs: an 8-byte absolute address (4 with a 67 prefix). */
    private static final int MOFFS = 64;
    /** test r/m, imm in groups F6/F7 (ModRM.reg 0 or 1) carries an immediate; the others do not. */
    private static final int GROUP3 = 128;
    /** enter: imm16 + imm8. */
    private static final int ENTER = 256;
    /** near call/jmp/jcc: always rel32 in 64-bit mode. */
    private static final int REL32 = 512;

    private static final int[] ONE_BYTE = new int[256];
    private static final int[] TWO_BYTE = new int[256];

    static {
        for (int row = 0; row < 0x40; row += 8) {
            // add/or/adc/sbb/and/sub/xor/cmp: r/m forms, then AL,ib and eAX,iz
            for (int i = 0; i < 4; i++) {
                ONE_BYTE[row + i] = MODRM;
            }
            ONE_BYTE[row + 4] = IMM8;
            ONE_BYTE[row + 5] = IMMZ;
        }
        for (int op : new int[] {0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f,
                0x60, 0x61, 0x62, 0x82, 0x9a, 0xc4, 0xc5, 0xce, 0xd4, 0xd5, 0xd6, 0xea}) {
            ONE_BYTE[op] = INVALID; // C4/C5 are VEX, handled before the table is consulted
        }
        ONE_BYTE[0x63] = MODRM;
        ONE_BYTE[0x68] = IMMZ;
        ONE_BYTE[0x69] = MODRM | IMMZ;
        ONE_BYTE[0x6a] = IMM8;
        ONE_BYTE[0x6b] = MODRM | IMM8;
        for (int op = 0x70; op <= 0x7f; op++) {
            ONE_BYTE[op] = IMM8;
        }
        ONE_BYTE[0x80] = MODRM | IMM8;
        ONE_BYTE[0x81] = MODRM | IMMZ;
        ONE_BYTE[0x83] = MODRM | IMM8;
        for (int op = 0x84; op <= 0x8f; op++) {
            ONE_BYTE[op] = MODRM;
        }
        for (int op = 0xa0; op <= 0xa3; op++) {
            ONE_BYTE[op] = MOFFS;
        }
        ONE_BYTE[0xa8] = IMM8;
        ONE_BYTE[0xa9] = IMMZ;
        for (int op = 0xb0; op <= 0xb7; op++) {
            ONE_BYTE[op] = IMM8;
        }
        for (int op = 0xb8; op <= 0xbf; op++) {
            ONE_BYTE[op] = IMMV;
        }
        ONE_BYTE[0xc0] = MODRM | IMM8;
        ONE_BYTE[0xc1] = MODRM | IMM8;
        ONE_BYTE[0xc2] = IMM16;
        ONE_BYTE[0xc6] = MODRM | IMM8;
        ONE_BYTE[0xc7] = MODRM | IMMZ;
        ONE_BYTE[0xc8] = ENTER;
        ONE_BYTE[0xca] = IMM16;
        ONE_BYTE[0xcd] = IMM8;
        for (int op = 0xd0; op <= 0xd3; op++) {
            ONE_BYTE[op] = MODRM;
        }
        for (int op = 0xd8; op <= 0xdf; op++) {
            ONE_BYTE[op] = MODRM; // x87 escapes
        }
        for (int op = 0xe0; op <= 0xe7; op++) {
            ONE_BYTE[op] = IMM8; // loop/jrcxz rel8, in/out ib
        }
        ONE_BYTE[0xe8] = REL32;
        ONE_BYTE[0xe9] = REL32;
        ONE_BYTE[0xeb] = IMM8;
        ONE_BYTE[0xf6] = MODRM | GROUP3;
        ONE_BYTE[0xf7] = MODRM | GROUP3;
        ONE_BYTE[0xfe] = MODRM;
        ONE_BYTE[0xff] = MODRM;

        for (int op = 0; op < 256; op++) {
            TWO_BYTE[op] = MODRM; // most of the 0F map (SSE, cmov, setcc, bt, movzx, ...)
        }
        for (int op : new int[] {0x04, 0x0a, 0x0c, 0x0f, 0x24, 0x25, 0x26, 0x27, 0x36, 0x39, 0x3b, 0x3c, 0x3d,
                0x3e, 0x3f, 0x7a, 0x7b, 0xa6, 0xa7}) {
            TWO_BYTE[op] = INVALID; // 0F 0F (3DNow!) too: never produced by the compilers we read
        }
        for (int op : new int[] {0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0e, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37,
                0x77, 0xa0, 0xa1, 0xa2, 0xa8, 0xa9, 0xaa}) {
            TWO_BYTE[op] = 0;
        }
        for (int op = 0xc8; op <= 0xcf; op++) {
            TWO_BYTE[op] = 0; // bswap
        }
        for (int op = 0x80; op <= 0x8f; op++) {
            TWO_BYTE[op] = REL32;
        }
        for (int op : new int[] {0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6}) {
            TWO_BYTE[op] = MODRM | IMM8;
        }
    }

    private X86Decoder() {
    }

    /**
     * Decodes the instruction at {@code offset} of {@code code}, whose byte 0 is at virtual address
     * {@code codeVaddr}. Reads only within {@code [0, code.limit())}.
     */
    public static X86Instruction decode(ByteBuffer code, int offset, long codeVaddr) throws X86DecodeException {
        return new Cursor(code, offset, codeVaddr + offset).decode();
    }

    private static final class Cursor {
        private final ByteBuffer code;
        private final int start;
        private final long address;
        private int pos;

        Cursor(ByteBuffer code, int start, long address) {
            this.code = code;
            this.start = start;
            this.address = address;
            this.pos = start;
        }

        private int next() throws X86DecodeException {
            if (pos >= code.limit()) {
                throw new X86DecodeException(address, "instruction runs past the end of the code");
            }
            if (pos - start >= MAX_LENGTH) {
                throw new X86DecodeException(address, "instruction longer than 15 bytes");
            }
            return Byte.toUnsignedInt(code.get(pos++));
        }

        private long signed(int bytes) throws X86DecodeException {
            long v = 0;
            for (int i = 0; i < bytes; i++) {
                v |= (long) next() << (8 * i);
            }
            int shift = 64 - 8 * bytes;
            return bytes == 8 ? v : (v << shift) >> shift;
        }

        X86Instruction decode() throws X86DecodeException {
            boolean opsize = false;
            boolean addr32 = false;
            int b = next();
            // Legacy prefixes, in any order.
            while (b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x3e
                    || b == 0x26 || b == 0x36 || b == 0x64 || b == 0x65) {
                if (b == 0x66) {
                    opsize = true;
                } else if (b == 0x67) {
                    addr32 = true;
                }
                b = next();
            }
            int rex = 0;
            if ((b & 0xf0) == 0x40) {
                rex = b; // REX must come last; a following legacy prefix is not an instruction we know
                b = next();
            }
            boolean rexW = (rex & 8) != 0;
            int rexR = (rex & 4) << 1;
            int rexX = (rex & 2) << 2;
            int rexB = (rex & 1) << 3;
            int map;
            int opcode;
            int props;
            boolean vex = false;
            if (b == 0xc4 || b == 0xc5) {
                if (rex != 0) {
                    throw new X86DecodeException(address, "REX before VEX");
                }
                vex = true;
                int p1 = next();
                rexR = ((p1 & 0x80) == 0) ? 8 : 0;
                if (b == 0xc5) {
                    map = 1;
                } else {
                    rexX = ((p1 & 0x40) == 0) ? 8 : 0;
                    rexB = ((p1 & 0x20) == 0) ? 8 : 0;
                    map = p1 & 0x1f;
                    int p2 = next();
                    rexW = (p2 & 0x80) != 0;
                    if (map < 1 || map > 3) {
                        throw new X86DecodeException(address, "VEX opcode map " + map + " unknown");
                    }
                }
                opcode = next();
                if (map == 1 && opcode == 0x77) {
                    props = 0; // vzeroupper / vzeroall: the only VEX instruction without ModRM
                } else if (map == 1) {
                    props = (TWO_BYTE[opcode] & ~REL32) | MODRM;
                } else {
                    props = map == 3 ? MODRM | IMM8 : MODRM;
                }
                if ((props & INVALID) != 0) {
                    throw new X86DecodeException(address, "VEX opcode 0x" + Integer.toHexString(opcode) + " unknown");
                }
            } else if (b == 0x0f) {
                int b2 = next();
                if (b2 == 0x38) {
                    map = 2;
                    opcode = next();
                    props = MODRM;
                } else if (b2 == 0x3a) {
                    map = 3;
                    opcode = next();
                    props = MODRM | IMM8;
                } else {
                    map = 1;
                    opcode = b2;
                    props = TWO_BYTE[b2];
                }
            } else {
                map = 0;
                opcode = b;
                props = ONE_BYTE[b];
            }
            if ((props & INVALID) != 0) {
                throw new X86DecodeException(address, "opcode " + (map == 1 ? "0f " : "") + "0x"
                        + Integer.toHexString(opcode) + " is invalid or unsupported in 64-bit mode");
            }

            int reg = 0;
            boolean isMemory = false;
            int rm = X86Instruction.NONE;
            int base = X86Instruction.NONE;
            int index = X86Instruction.NONE;
            int scale = 1;
            long disp = 0;
            boolean hasModrm = (props & MODRM) != 0;
            int regField = 0;
            if (hasModrm) {
                int modrm = next();
                int mod = modrm >>> 6;
                regField = (modrm >>> 3) & 7;
                reg = regField | rexR;
                int rmLow = modrm & 7;
                if (mod == 3) {
                    rm = rmLow | rexB;
                } else {
                    isMemory = true;
                    if (rmLow == 4) {
                        int sib = next();
                        scale = 1 << (sib >>> 6);
                        int idx = ((sib >>> 3) & 7) | rexX;
                        index = idx == 4 ? X86Instruction.NONE : idx; // rsp cannot be an index; r12 can
                        int baseLow = sib & 7;
                        if (baseLow == 5 && mod == 0) {
                            base = X86Instruction.NONE;
                            disp = signed(4);
                        } else {
                            base = baseLow | rexB;
                        }
                    } else if (rmLow == 5 && mod == 0) {
                        base = X86Instruction.RIP;
                        disp = signed(4);
                    } else {
                        base = rmLow | rexB;
                    }
                    if (mod == 1) {
                        disp = signed(1);
                    } else if (mod == 2) {
                        disp = signed(4);
                    }
                }
            }

            if (!hasModrm && map == 0 && !vex && ((opcode >= 0x50 && opcode <= 0x5f) || (opcode >= 0x90 && opcode <= 0x97)
                    || opcode >= 0xb0 && opcode <= 0xbf)) {
                rm = (opcode & 7) | rexB; // the register is encoded in the opcode
            }
            boolean opsize16 = opsize && !rexW;
            int immBytes = 0;
            boolean imm16Unsigned = false;
            if ((props & IMM8) != 0) {
                immBytes = 1;
            } else if ((props & IMMZ) != 0) {
                immBytes = opsize16 ? 2 : 4;
            } else if ((props & IMMV) != 0) {
                immBytes = rexW ? 8 : opsize16 ? 2 : 4;
            } else if ((props & REL32) != 0) {
                immBytes = 4;
            } else if ((props & IMM16) != 0) {
                immBytes = 2;
                imm16Unsigned = true;
            } else if ((props & ENTER) != 0) {
                immBytes = 3;
                imm16Unsigned = true;
            } else if ((props & MOFFS) != 0) {
                immBytes = addr32 ? 4 : 8;
            } else if ((props & GROUP3) != 0 && regField <= 1) {
                immBytes = opcode == 0xf6 ? 1 : opsize16 ? 2 : 4;
            }
            long imm = 0;
            if (immBytes > 0) {
                imm = imm16Unsigned ? signed(immBytes) & ((1L << (8 * immBytes)) - 1) : signed(immBytes);
            }
            return new X86Instruction(address, pos - start, map, opcode, vex, rexW, opsize16, hasModrm, reg,
                    isMemory, rm, base, index, scale, disp, addr32 && isMemory, immBytes > 0, imm);
        }
    }
}
