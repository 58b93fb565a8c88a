package io.moonwalk.agent.profile;

/** What kind of code a symbolized frame belongs to; drives labels and flame-graph colours. */
public enum FrameKind {
    /** Kernel code; folded label suffix {@code _[k]}. */
    KERNEL,
    /** Native user-space code (executable or shared library). */
    NATIVE,
    /** A Lua function running in the LuaJIT interpreter. */
    LUA,
    /** A Lua function running inside a compiled JIT trace; folded label suffix {@code _[j]}. */
    LUA_JIT,
    /** An explicit marker where the unwinder stopped early or could not name a frame. */
    ERROR
}
