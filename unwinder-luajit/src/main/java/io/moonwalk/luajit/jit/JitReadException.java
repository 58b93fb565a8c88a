package io.moonwalk.luajit.jit;

/**
 * A VM's JIT state could not be read as a whole. Target memory is hostile input: this is the normal outcome
 * for a garbage g, a dead process or a torn state that stayed torn, and the reason says which.
 */
public final class JitReadException extends Exception {
    /** What went wrong; the agent counts these per reason. */
    public enum Reason {
        /** The process is gone. */
        NO_PROCESS,
        /** Reading the process is not permitted (needs CAP_SYS_PTRACE). */
        DENIED,
        /** jit_State or a structure it points to is not mapped. */
        UNREADABLE,
        /** JIT parameters or sizes outside anything LuaJIT allows: not a jit_State (wrong g or wrong layout). */
        NOT_A_JIT_STATE,
        /** The mcode area chain is malformed: misaligned, absurd size, overlapping, looping or too long. */
        BAD_AREA_CHAIN,
        /** The state kept changing under us (a flush or an area allocation while we read). */
        UNSTABLE
    }

    private final Reason reason;

    public JitReadException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
