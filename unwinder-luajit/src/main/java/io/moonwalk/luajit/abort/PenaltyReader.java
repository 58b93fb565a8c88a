package io.moonwalk.luajit.abort;

import io.moonwalk.luajit.jit.JitOffsets;
import io.moonwalk.luajit.jit.JitReadException;
import io.moonwalk.luajit.jit.JitReadException.Reason;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.luajit.proto.BytecodeSet;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a VM's hot-penalty cache ({@code J->penalty[64]}, {@code J->penaltyslot}) out of process: one read of the
 * whole cache, plus one 4-byte read of the instruction at each site whose penalty is high enough for its next
 * abort to blacklist it (LuaJIT then rewrites FORL/ITERL/LOOP/FUNCF/FUNCV into their I-variants and leaves the
 * slot as it was, so the instruction is the only trace of that last abort).
 *
 * <p>{@code penalty[]} sits 0xc0 bytes above {@code J->param[]} in every 2.1 build (the 16 parameters and the 16
 * exit-stub group pointers lie between), in both GC modes; a slot is {@code {MRef pc; u16 val; u16 reason}}
 * (16 bytes with GC64, 8 without). DiagnosticOffsetsTest checks both against {@code offsetof} on the fixture builds.
 * Not thread-safe (scratch buffers).
 */
public final class PenaltyReader {
    /** {@code offsetof(jit_State, penalty) - offsetof(jit_State, param)}. */
    static final int PENALTY_ABOVE_PARAM = 0xc0;

    private final MemoryReader memory;
    private final int refSize;
    private final int slotBytes;
    private final int penalty;
    private final byte[] buf;
    private final byte[] ins = new byte[4];
    private final int[] blacklistedOps;

    public PenaltyReader(MemoryReader memory, LuajitLayout layout) {
        this.memory = memory;
        this.refSize = layout.refSize();
        this.slotBytes = 2 * refSize;
        this.penalty = JitOffsets.of(layout).param() + PENALTY_ABOVE_PARAM;
        this.buf = new byte[PenaltyCache.SLOTS * slotBytes + 4];
        BytecodeSet bc = BytecodeSet.LUAJIT_2_1;
        this.blacklistedOps = new int[] {bc.op("IFORL"), bc.op("IITERL"), bc.op("ILOOP"), bc.op("IFUNCF"),
                bc.op("IFUNCV")};
    }

    /** {@code J->penalty} relative to g. */
    public int penaltyOffset() {
        return penalty;
    }

    /** {@code J->penaltyslot} relative to g. */
    public int penaltyslotOffset() {
        return penalty + PenaltyCache.SLOTS * slotBytes;
    }

    public PenaltyCache read(int pid, long g) throws JitReadException {
        return read(pid, g, null);
    }

    /**
     * Like {@link #read(int, long)}, with the VM's previous read: a slot that was blacklisted then and still holds
     * the same site and value is blacklisted still (LuaJIT never updates a blacklisted site's slot), so its
     * instruction is not read again.
     */
    public PenaltyCache read(int pid, long g, PenaltyCache previous) throws JitReadException {
        ReadStatus s = memory.read(pid, g + penalty, buf, 0, buf.length);
        switch (s) {
            case OK -> {
            }
            case NO_PROCESS -> throw new JitReadException(Reason.NO_PROCESS, "pid " + pid + " exited");
            case DENIED -> throw new JitReadException(Reason.DENIED, "not allowed to read pid " + pid
                    + " (needs CAP_SYS_PTRACE)");
            default -> throw new JitReadException(Reason.UNREADABLE, "pid " + pid + ": J->penalty at 0x"
                    + Long.toHexString(g + penalty) + " unreadable: " + s);
        }
        int next = i32(buf, PenaltyCache.SLOTS * slotBytes);
        if (next < 0 || next >= PenaltyCache.SLOTS) {
            throw notPenalty(g, "J->penaltyslot = " + next);
        }
        List<PenaltySlot> slots = new ArrayList<>(PenaltyCache.SLOTS);
        for (int i = 0; i < PenaltyCache.SLOTS; i++) {
            int o = i * slotBytes;
            long pc = refSize == 8 ? i64(buf, o) : i32(buf, o) & 0xffffffffL;
            int val = u16(buf, o + refSize);
            int reason = u16(buf, o + refSize + 2);
            if (pc == 0) {
                slots.add(new PenaltySlot(0, 0, 0, false));
                continue;
            }
            if ((pc & 3) != 0 || val < PenaltySlot.MIN || val > PenaltySlot.MAX || reason > 0xff) {
                throw notPenalty(g, "J->penalty[" + i + "] = {pc 0x" + Long.toHexString(pc) + ", val " + val
                        + ", reason " + reason + "}");
            }
            // a next abort could only blacklist when doubling passes PENALTY_MAX: only then is the instruction read
            PenaltySlot before = previous == null ? null : previous.slots().get(i);
            boolean known = before != null && before.blacklisted() && before.pc() == pc && before.val() == val;
            boolean blacklisted = known || (2 * val + 15 > PenaltySlot.MAX && isBlacklisted(pid, pc));
            slots.add(new PenaltySlot(pc, val, reason, blacklisted));
        }
        return new PenaltyCache(pid, g, slots, next);
    }

    private boolean isBlacklisted(int pid, long pc) {
        if (memory.read(pid, pc, ins, 0, 4) != ReadStatus.OK) {
            return false; // the proto was freed: its site can abort no more
        }
        int op = ins[0] & 0xff;
        for (int b : blacklistedOps) {
            if (op == b) {
                return true;
            }
        }
        return false;
    }

    private static JitReadException notPenalty(long g, String what) {
        return new JitReadException(Reason.NOT_A_JIT_STATE, "g 0x" + Long.toHexString(g) + ": " + what
                + " is impossible for LuaJIT 2.1 (wrong g, or a layout that does not fit this binary)");
    }

    private static int u16(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }

    private static int i32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    private static long i64(byte[] b, int off) {
        return (i32(b, off) & 0xffffffffL) | (long) i32(b, off + 4) << 32;
    }
}
