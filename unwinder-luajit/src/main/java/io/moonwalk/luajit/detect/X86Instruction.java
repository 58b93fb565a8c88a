package io.moonwalk.luajit.detect;

/**
 * One decoded x86-64 instruction: enough of its operands to recognise the few LuaJIT instruction
 * patterns the detector looks for. Register numbers are 0..15 (rax..r15) with the REX extension
 * applied.
 *
 * @param address   file virtual address of the first byte
 * @param length    encoded length in bytes (1..15)
 * @param map       opcode map: 0 one-byte, 1 {@code 0F}, 2 {@code 0F 38}, 3 {@code 0F 3A}
 * @param opcode    the opcode byte within its map
 * @param vex       encoded with a VEX prefix
 * @param rexW      REX.W (or VEX.W) set: 64-bit operand size
 * @param opsize16  a {@code 66} prefix without REX.W (16-bit operands for integer instructions)
 * @param hasModrm  a ModRM byte is present; the fields below are meaningful only then
 * @param reg       ModRM.reg with REX.R (a register number, or an opcode extension for groups)
 * @param isMemory  the r/m operand is memory (ModRM.mod != 3)
 * @param rm        the r/m register when {@code !isMemory}, or the register in the opcode of push/pop/xchg/mov-imm
 * @param base      memory base register, {@link #NONE} for none, {@link #RIP} for rip-relative
 * @param index     memory index register or {@link #NONE}
 * @param scale     index scale (1, 2, 4, 8)
 * @param disp      sign-extended displacement
 * @param addr32    a {@code 67} prefix: the address is computed in 32 bits ({@code (%r14d)}, not {@code (%r14)})
 * @param hasImm    an immediate (or relative branch offset) is present
 * @param imm       the immediate, sign-extended to 64 bits (zero-extended for 16-bit {@code ret}/{@code enter})
 */
public record X86Instruction(long address, int length, int map, int opcode, boolean vex, boolean rexW,
        boolean opsize16, boolean hasModrm, int reg, boolean isMemory, int rm, int base, int index, int scale,
        long disp, boolean addr32, boolean hasImm, long imm) {

    public static final int NONE = -1;
    public static final int RIP = 16;

    public static final int RAX = 0;
    public static final int RCX = 1;
    public static final int RDX = 2;
    public static final int RBX = 3;
    public static final int RSP = 4;
    public static final int RBP = 5;
    public static final int RSI = 6;
    public static final int RDI = 7;
    public static final int R14 = 14;

    /** Integer operand size in bytes for ordinary instructions: 8 with REX.W, 2 with {@code 66}, else 4. */
    public int operandSize() {
        return rexW ? 8 : opsize16 ? 2 : 4;
    }

    /** True for a one-byte-map instruction with this opcode. */
    public boolean is(int oneByteOpcode) {
        return map == 0 && !vex && opcode == oneByteOpcode;
    }

    /** The memory operand is {@code disp(base)} with no index register. */
    public boolean isMemoryAt(int baseRegister) {
        return hasModrm && isMemory && !addr32 && base == baseRegister && index == NONE;
    }

    /** The end address (address of the next instruction). */
    public long end() {
        return address + length;
    }

    /** Whether the instruction writes {@code register} as its ModRM.reg destination (mov/lea/movzx/... loads). */
    public boolean loadsInto(int register) {
        return hasModrm && reg == register && (is(0x8b) || is(0x8d) || is(0x63)
                || (map == 1 && !vex && (opcode == 0xb6 || opcode == 0xb7 || opcode == 0xbe || opcode == 0xbf)));
    }
}
