package io.moonwalk.luajit.detect;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * DISPATCH-relative accesses in the interpreter blob. Inside the interpreter r14 holds DISPATCH
 * (= g + G2DISP), so fields of {@code global_State} and {@code jit_State} appear as negative
 * displacements from r14. The blob is swept linearly from its first byte, so every instruction is
 * seen at its real boundary; an undecodable byte stops the sweep and the binary is refused.
 *
 * <ul>
 *   <li>G2DISP: {@code lea -X(%r14),%rdi} passes g to C helpers; the largest X is g itself.</li>
 *   <li>vmstate: {@code set_vmstate} is {@code movl $~STATE, D(%r14)} with a state in -7..-1.</li>
 *   <li>jit_base: the trace exit handler clears it with a GCRef-sized {@code mov $0, D(%r14)}.</li>
 *   <li>J->trace: BC_JLOOP loads the trace array from D(%r14) and indexes it with a scale of one GCRef.</li>
 *   <li>cur_L: stores of a register to D(%r14) (used only to confirm the value read from lua_close).</li>
 * </ul>
 */
final class InterpreterPatterns {
    /** BC_JLOOP indexes the array in the very next instruction or the one after. */
    private static final int TRACE_INDEX_WINDOW = 2;

    /** Displacement → addresses of the instructions using it. */
    final TreeMap<Long, List<Long>> leaG = new TreeMap<>();
    final TreeMap<Long, List<Long>> setVmstate = new TreeMap<>();
    final TreeMap<Long, List<Long>> zeroStores = new TreeMap<>();
    final TreeMap<Long, List<Long>> traceArrayLoads = new TreeMap<>();
    final TreeMap<Long, List<Long>> registerStores = new TreeMap<>();
    int instructions;

    private InterpreterPatterns() {
    }

    static InterpreterPatterns sweep(ByteBuffer blob, long vaddr, boolean gc64) throws Refusal {
        InterpreterPatterns p = new InterpreterPatterns();
        int refSize = gc64 ? 8 : 4;
        List<X86Instruction> recent = new ArrayList<>();
        int offset = 0;
        while (offset < blob.limit()) {
            X86Instruction in;
            try {
                in = X86Decoder.decode(blob, offset, vaddr);
            } catch (X86DecodeException e) {
                throw new Refusal("interpreter code is not the x86-64 LuaJIT emits: " + e.getMessage());
            }
            offset += in.length();
            p.instructions++;
            p.classify(in, refSize, recent);
            recent.add(in);
            if (recent.size() > TRACE_INDEX_WINDOW) {
                recent.removeFirst();
            }
        }
        return p;
    }

    private void classify(X86Instruction in, int refSize, List<X86Instruction> recent) {
        if (!in.isMemoryAt(X86Instruction.R14)) {
            if (in.is(0x8b) && in.isMemory() && in.index() != X86Instruction.NONE && in.scale() == refSize
                    && in.operandSize() == refSize) {
                // mov (A,X,scale),T: an array of GCRefs indexed by a trace number; A must come from DISPATCH
                for (X86Instruction prev : recent) {
                    if (prev.is(0x8b) && prev.isMemoryAt(X86Instruction.R14) && prev.reg() == in.base()
                            && prev.disp() < 0 && prev.operandSize() >= refSize) {
                        add(traceArrayLoads, prev.disp(), prev.address());
                    }
                }
            }
            return;
        }
        long d = in.disp();
        if (in.is(0x8d) && in.reg() == X86Instruction.RDI && d < 0) {
            add(leaG, -d, in.address());
        } else if (in.is(0xc7) && in.reg() == 0) {
            if (in.operandSize() == 4 && in.imm() >= -7 && in.imm() <= -1) {
                add(setVmstate, d, in.address());
            } else if (in.operandSize() == refSize && in.imm() == 0) {
                add(zeroStores, d, in.address());
            }
        } else if (in.is(0x89) && in.operandSize() == refSize) {
            add(registerStores, d, in.address());
        }
    }

    private static void add(TreeMap<Long, List<Long>> m, long key, long address) {
        m.computeIfAbsent(key, k -> new ArrayList<>()).add(address);
    }
}
