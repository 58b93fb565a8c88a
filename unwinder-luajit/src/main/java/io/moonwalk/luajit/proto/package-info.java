/**
 * GCprotos read from live processes: validity checks (luajit-internals.md §9.2), the fingerprint shared with the
 * kernel walker, a bounded cache keyed on (pid, proto, fingerprint), and the bytecode sets of LuaJIT versions.
 */
package io.moonwalk.luajit.proto;
