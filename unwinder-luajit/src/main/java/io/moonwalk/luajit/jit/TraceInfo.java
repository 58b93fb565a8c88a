package io.moonwalk.luajit.jit;

/**
 * One live trace as read from {@code J->trace[traceno]}.
 *
 * @param traceno  index in the trace array (= {@code T->traceno})
 * @param root     0 for a root trace, else the root trace this side trace hangs off
 * @param link     trace this one links to at its end (0 = none / returns to the interpreter)
 * @param address  the GCtrace object
 * @param startpt  the GCproto the trace starts in (for a side trace: where its parent's exit was)
 * @param startpc  the bytecode instruction it starts at
 * @param mcode    first byte of its machine code
 * @param szmcode  machine code size in bytes
 * @param spadjust stack adjustment of the trace frame (absolute, also for side traces): CFA = rsp + spadjust + 96
 */
public record TraceInfo(int traceno, int root, int link, long address, long startpt, long startpc, long mcode,
                        long szmcode, int spadjust) {
    public boolean isSide() {
        return root != 0;
    }

    public long mcodeEnd() {
        return mcode + szmcode;
    }
}
