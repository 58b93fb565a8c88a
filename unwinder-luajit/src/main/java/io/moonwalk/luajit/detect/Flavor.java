package io.moonwalk.luajit.detect;

/** Which LuaJIT source tree a binary was built from; the two differ in struct sizes and JIT defaults. */
public enum Flavor {
    /** LuaJIT 2.1 from luajit.org (Debian package {@code luajit}). */
    UPSTREAM,
    /** OpenResty's luajit2 branch (Debian package {@code luajit2}, OpenResty bundles). */
    OPENRESTY,
    /** LuaJIT whose origin could not be told. */
    UNKNOWN
}
