/**
 * GCprotos read from live processes: validity checks (docs/luajit-walk.md, "Reading prototypes after the sample"), the fingerprint shared with the
 * kernel walker, a bounded cache keyed on (pid, proto, fingerprint), and the bytecode sets of LuaJIT versions.
 */
package io.moonwalk.luajit.proto;
