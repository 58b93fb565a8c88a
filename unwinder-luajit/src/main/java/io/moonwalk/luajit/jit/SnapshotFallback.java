package io.moonwalk.luajit.jit;

/**
 * Why a sampled trace position kept the trace's frame as the kernel saw it (the function at {@code g->jit_base},
 * the trace's start line) instead of the frames of its snapshot. Each is counted
 * ({@code moonwalk_lua_jit_snapshots_total{result}}).
 */
public enum SnapshotFallback implements SnapshotResult {
    /** The kernel matched no trace holding the PC (vmstate named none), or an old record without trace words. */
    NO_TRACE,
    /** The GCtrace no longer is the sampled one (flushed, its number or memory reused). */
    STALE,
    /** The process's memory could not be read (it exited, or the page is gone). */
    UNREADABLE,
    /** No usable snapshot: none, or a table out of order (not this trace's). */
    NO_SNAPSHOT,
    /** A frame whose function is not a constant of the trace (a closure specialised to its prototype only). */
    FRAME_NOT_CONSTANT,
    /** A pcall or continuation frame inside the inlined chain: not followed. */
    UNSUPPORTED_FRAME,
    /** The chain does not fit the base frame the kernel walked (a PC outside its function's bytecode). */
    BASE_MISMATCH;

    /** Metric label value. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
