package io.moonwalk.luajit.abort;

import java.util.List;

/**
 * LuaJIT 2.1's trace abort reasons ({@code TraceError}, lj_traceerr.h), by number. The messages are not in the
 * binary (only {@code jit/vmdef.lua}, generated at build time, carries them for {@code jit.v}), so the table is
 * kept here; it is identical in upstream 2.1 and OpenResty luajit2 (TraceErrorsTest compares it with each fixture
 * build's {@code vmdef.lua}). A reason is shown as LuaJIT's message with its format argument ({@code %s},
 * {@code %d}) left out: the argument (which fast function, which bytecode) is not kept in the penalty cache, and
 * without it the set of values is bounded, as a metric label must be.
 */
public final class TraceErrors {
    private TraceErrors() {
    }

    private static final List<String> MESSAGES = List.of(
            "error thrown or hook called during recording", "trace too short", "trace too long", "trace too deep",
            "too many snapshots", "blacklisted", "retry recording", "NYI: bytecode %d",
            "leaving loop in root trace", "inner loop in root trace", "loop unroll limit reached",
            "bad argument type", "JIT compilation disabled for function", "call unroll limit reached",
            "down-recursion, restarting", "NYI: unsupported variant of FastFunc %s", "NYI: return to lower frame",
            "store with nil or NaN key", "missing metamethod", "looping index lookup", "NYI: mixed sparse/dense table",
            "symbol not in cache", "NYI: unsupported C type conversion", "NYI: unsupported C function type",
            "guard would always fail", "too many PHIs", "persistent type instability",
            "failed to allocate mcode memory", "machine code too long", "hit mcode limit (retrying)",
            "too many spill slots", "inconsistent register allocation", "NYI: cannot assemble IR instruction %d",
            "NYI: PHI shuffling too complex", "NYI: register coalescing too complex");

    /** The label of a reason number outside the table (a newer LuaJIT, or a torn read). */
    public static final String OTHER = "other";

    /** Number of reasons (LJ_TRERR__MAX). */
    public static int count() {
        return MESSAGES.size();
    }

    /** LuaJIT's message template for {@code reason} ({@code %s}/{@code %d} kept), null if unknown. */
    public static String template(int reason) {
        return reason >= 0 && reason < MESSAGES.size() ? MESSAGES.get(reason) : null;
    }

    /** The reason as a label: LuaJIT's message without its format argument, or {@link #OTHER}. */
    public static String label(int reason) {
        String t = template(reason);
        return t == null ? OTHER : t.replace(" %d", "").replace(" %s", "");
    }

    /** Every label {@link #label} can return: the bounded label set. */
    public static List<String> labels() {
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < MESSAGES.size(); i++) {
            out.add(label(i));
        }
        out.add(OTHER);
        return out;
    }
}
