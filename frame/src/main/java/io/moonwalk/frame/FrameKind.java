package io.moonwalk.frame;

/** What kind of code a frame belongs to; drives labels, flame-graph colours and the OTLP frame type. */
public enum FrameKind {
    /** Kernel code; folded label suffix {@code _[k]}. */
    KERNEL,
    /** Native user-space code (executable or shared library). */
    NATIVE,
    /**
     * A function of an interpreted language (Lua), run by the interpreter or, with {@link Frame#jit()}, inside
     * code the runtime compiled (folded label suffix {@code _[j]}); {@link Frame#runtime()} names the runtime.
     */
    INTERPRETED,
    /** An explicit marker where the unwinder stopped early or could not name a frame. */
    ERROR
}
