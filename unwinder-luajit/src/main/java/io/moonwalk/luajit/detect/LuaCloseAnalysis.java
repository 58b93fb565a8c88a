package io.moonwalk.luajit.detect;

import java.nio.ByteBuffer;

/**
 * Reads the GC mode, {@code L->glref} and {@code g->cur_L} out of the exported {@code lua_close}:
 * its first access through the argument is {@code g = L->glref} (a 64-bit load from
 * {@code [rdi+0x10]} on GC64, a 32-bit load from {@code [rdi+0x8]} otherwise), and its first
 * zero store through g clears {@code g->cur_L} (LuaJIT 2.1 {@code lua_close}:
 * {@code setgcrefnull(g->cur_L)}), with the operand size of a GCRef.
 */
final class LuaCloseAnalysis {
    /** lua_close reaches the cur_L store within a dozen instructions in every build we know. */
    private static final int MAX_INSTRUCTIONS = 48;
    private static final int MAX_BYTES = 256;

    record Result(boolean gc64, int glref, int curL, long glrefAt, long curLAt) {
    }

    private LuaCloseAnalysis() {
    }

    static Result analyse(ByteBuffer code, long vaddr) throws Refusal {
        int offset = 0;
        int g = X86Instruction.NONE;
        boolean gc64 = false;
        int glref = 0;
        long glrefAt = 0;
        for (int n = 0; n < MAX_INSTRUCTIONS && offset < Math.min(code.limit(), MAX_BYTES); n++) {
            X86Instruction in;
            try {
                in = X86Decoder.decode(code, offset, vaddr);
            } catch (X86DecodeException e) {
                throw new Refusal("lua_close: " + e.getMessage());
            }
            offset += in.length();
            if (g == X86Instruction.NONE) {
                if (in.is(0x8b) && in.isMemoryAt(X86Instruction.RDI)) {
                    if (in.operandSize() == 8 && in.disp() == 0x10) {
                        gc64 = true;
                    } else if (in.operandSize() == 4 && in.disp() == 0x8) {
                        gc64 = false;
                    } else {
                        throw new Refusal("lua_close: first load through L at 0x" + Long.toHexString(in.address())
                                + " is " + in.operandSize() + " bytes at L+0x" + Long.toHexString(in.disp())
                                + ", neither GC64 glref (8 at +0x10) nor non-GC64 glref (4 at +0x8)");
                    }
                    g = in.reg();
                    glref = (int) in.disp();
                    glrefAt = in.address();
                } else if (writesRegister(in, X86Instruction.RDI) || isControlTransfer(in)) {
                    throw new Refusal("lua_close: L (rdi) is replaced or control leaves before L->glref is loaded"
                            + " (at 0x" + Long.toHexString(in.address()) + ")");
                }
                continue;
            }
            if (in.is(0xc7) && in.reg() == 0 && in.isMemoryAt(g) && in.imm() == 0) {
                int size = in.operandSize();
                if (size != (gc64 ? 8 : 4)) {
                    throw new Refusal("lua_close: zero store through g at 0x" + Long.toHexString(in.address())
                            + " is " + size + " bytes, not a GCRef of this GC mode");
                }
                if (in.disp() <= 0 || in.disp() > 0x1000) {
                    throw new Refusal("lua_close: cur_L candidate offset 0x" + Long.toHexString(in.disp())
                            + " is outside global_State");
                }
                return new Result(gc64, glref, (int) in.disp(), glrefAt, in.address());
            }
            boolean callClobbers = in.is(0xe8) && !isCalleeSaved(g);
            if (writesRegister(in, g) || callClobbers || in.is(0xc3) || in.is(0xe9) || in.is(0xeb)) {
                throw new Refusal("lua_close: g is lost (at 0x" + Long.toHexString(in.address())
                        + ") before the store that clears g->cur_L");
            }
        }
        throw new Refusal("lua_close: no L->glref load followed by a zero store to g->cur_L in its first "
                + MAX_INSTRUCTIONS + " instructions");
    }

    private static boolean isCalleeSaved(int reg) {
        return reg == X86Instruction.RBX || reg == X86Instruction.RBP || (reg >= 12 && reg <= 15);
    }

    private static boolean isControlTransfer(X86Instruction in) {
        return in.is(0xe8) || in.is(0xe9) || in.is(0xeb) || in.is(0xc3) || (in.map() == 0 && in.opcode() >= 0x70
                && in.opcode() <= 0x7f) || (in.map() == 1 && in.opcode() >= 0x80 && in.opcode() <= 0x8f)
                || (in.is(0xff) && in.reg() >= 2 && in.reg() <= 5);
    }

    /**
     * Conservative: true when the instruction may write {@code register} (false only for forms known
     * to leave it alone). The callers give up when it says true, so erring towards true only costs a
     * refusal, never a wrong offset.
     */
    static boolean writesRegister(X86Instruction in, int register) {
        if (in.vex() || in.map() != 0) {
            return in.hasModrm() && (in.reg() == register || (!in.isMemory() && in.rm() == register));
        }
        int op = in.opcode();
        if (!in.hasModrm()) {
            // pop r, xchg rAX,r, mov r,imm: the decoder puts the register in rm
            boolean opcodeRegWrite = (op >= 0x58 && op <= 0x5f) || (op >= 0x91 && op <= 0x97)
                    || (op >= 0xb0 && op <= 0xbf);
            boolean accumulator = register == X86Instruction.RAX && op != 0x90 && !(op >= 0x50 && op <= 0x57)
                    && !(op >= 0x70 && op <= 0x7f) && op != 0xe8 && op != 0xe9 && op != 0xeb && op != 0xc3;
            return (opcodeRegWrite && in.rm() == register) || accumulator
                    || (register == X86Instruction.RDX && (op == 0x99)) || (register == X86Instruction.RSP);
        }
        boolean aluRegDestination = op < 0x40 && ((op & 7) == 2 || (op & 7) == 3) && op != 0x3a && op != 0x3b;
        boolean regDestination = aluRegDestination || op == 0x8a || op == 0x8b || op == 0x8d || op == 0x63
                || op == 0x69 || op == 0x6b || op == 0x86 || op == 0x87;
        if (regDestination && in.reg() == register) {
            return true;
        }
        if (in.isMemory() || in.rm() != register) {
            return op == 0xf6 || op == 0xf7 ? in.reg() >= 4 && (register == X86Instruction.RAX
                    || register == X86Instruction.RDX) : false;
        }
        boolean onlyReadsRm = (op < 0x40 && ((op & 7) == 2 || (op & 7) == 3))
                || (op >= 0x38 && op <= 0x3b) || op == 0x84 || op == 0x85 || op == 0x8a || op == 0x8b
                || op == 0x8d || op == 0x63 || op == 0x69 || op == 0x6b
                || ((op == 0x80 || op == 0x81 || op == 0x83) && in.reg() == 7)
                || ((op == 0xf6 || op == 0xf7) && in.reg() <= 1)
                || (op == 0xff && in.reg() >= 2);
        return !onlyReadsRm;
    }
}
