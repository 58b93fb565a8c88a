package io.moonwalk.luajit.gc;

import io.moonwalk.luajit.jit.JitReadException;
import io.moonwalk.luajit.jit.JitReadException.Reason;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;

/**
 * Reads {@code g->gc} (total, threshold, state) of a VM from outside the process: one read of 18 or 26 bytes.
 * {@code GCState} is the first field after the string-table head in every LuaJIT 2.1 {@code global_State} (g+0x10
 * in both GC modes, before and after the 2020 string-table rework); its sizes follow the GC mode ({@code GCSize}
 * is 64-bit with GC64, 32-bit without). DiagnosticOffsetsTest checks these against {@code offsetof} on each fixture
 * build. The values are checked before use, so a wrong g gives an error, never a figure.
 *
 * <p>Not thread-safe (one scratch buffer).
 */
public final class GcHeapReader {
    /** {@code offsetof(global_State, gc)}. */
    static final int GC = 0x10;
    /** Heaps beyond this are not a VM's (GC64 addresses are 47 bits). */
    private static final long MAX_BYTES = 1L << 47;

    private final MemoryReader memory;
    private final int sizeBytes;
    private final byte[] buf;

    public GcHeapReader(MemoryReader memory, LuajitLayout layout) {
        this.memory = memory;
        this.sizeBytes = layout.gc64() ? 8 : 4;
        // total, threshold, currentwhite, state
        this.buf = new byte[2 * sizeBytes + 2];
    }

    /** {@code offsetof(global_State, gc.threshold)} in this GC mode. */
    public int thresholdOffset() {
        return GC + sizeBytes;
    }

    /** {@code offsetof(global_State, gc.state)} in this GC mode. */
    public int stateOffset() {
        return GC + 2 * sizeBytes + 1;
    }

    public GcHeap read(int pid, long g) throws JitReadException {
        ReadStatus s = memory.read(pid, g + GC, buf, 0, buf.length);
        switch (s) {
            case OK -> {
            }
            case NO_PROCESS -> throw new JitReadException(Reason.NO_PROCESS, "pid " + pid + " exited");
            case DENIED -> throw new JitReadException(Reason.DENIED, "not allowed to read pid " + pid
                    + " (needs CAP_SYS_PTRACE)");
            default -> throw new JitReadException(Reason.UNREADABLE, "pid " + pid + ": g->gc at 0x"
                    + Long.toHexString(g + GC) + " unreadable: " + s);
        }
        long total = word(0);
        long threshold = word(sizeBytes);
        int state = buf[2 * sizeBytes + 1] & 0xff;
        if (total <= 0 || total >= MAX_BYTES || threshold <= 0 || threshold >= MAX_BYTES
                || state >= GcHeap.STATE_NAMES.length) {
            throw new JitReadException(Reason.NOT_A_JIT_STATE, "pid " + pid + " g 0x" + Long.toHexString(g)
                    + ": g->gc says total " + total + ", threshold " + threshold + ", state " + state
                    + ", impossible for LuaJIT 2.1 (wrong g, or a layout that does not fit this binary)");
        }
        return new GcHeap(pid, g, total, threshold, state);
    }

    private long word(int off) {
        long v = 0;
        for (int i = sizeBytes - 1; i >= 0; i--) {
            v = v << 8 | (buf[off + i] & 0xff);
        }
        return v;
    }
}
