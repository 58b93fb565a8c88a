package io.moonwalk.elf.core;

/**
 * One thread of a core ({@code NT_PRSTATUS}): its id, the signal it stopped with, and its user registers in
 * {@code user_regs_struct} order (27 words on x86_64: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
 * orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs).
 */
public record CoreThread(int tid, int signal, long[] registers) {
    public static final int REGISTER_WORDS = 27;
    static final int RBP = 4;
    static final int RIP = 16;
    static final int RSP = 19;

    public CoreThread {
        registers = registers.clone();
    }

    @Override
    public long[] registers() {
        return registers.clone();
    }

    public long rip() {
        return registers[RIP];
    }

    public long rsp() {
        return registers[RSP];
    }

    public long rbp() {
        return registers[RBP];
    }
}
