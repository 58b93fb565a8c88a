package io.moonwalk.frame;

import java.util.Objects;

/**
 * One symbolized frame. Every output renders from these fields: the visible label ({@link #label()}), pprof's
 * function/line/location/mapping and OTLP's function/line/location/mapping come from them, never from parsing
 * another rendering.
 *
 * @param kind      the kind of code
 * @param function  the function: native/kernel symbol (empty when unresolved), Lua function name
 *                  ({@code fib}, {@code M.f}, {@code obj:m}, {@code main chunk}, {@code function <app.lua:12>},
 *                  a built-in like {@code pcall}), or the marker text of an error frame
 * @param file      the source file of an interpreted frame (Lua chunk as shown: {@code /srv/app.lua},
 *                  {@code content_by_lua(nginx.conf:12)}); empty for built-ins, native, kernel and error frames
 * @param line      the current line of an interpreted frame (&gt; 0), {@link #LINE_UNKNOWN} when the position is
 *                  not known, {@link #LINE_NO_INFO} when the code carries no line information (stripped bytecode)
 * @param startLine the line the function is defined at (interpreted frames), 0 when unknown
 * @param address   the address in the process (native) or kernel (kernel) address space; 0 for interpreted and
 *                  error frames. Native frames other than the leaf carry the return address
 * @param mapping   the mapped file {@code address} lies in, or {@link CodeMapping#NONE}
 * @param jit       an interpreted frame running inside code the runtime compiled (a LuaJIT trace)
 * @param inlined   a compiled frame the compiler inlined into its caller's code: the runtime never built it,
 *                  it was recovered from the compiler's own records (LuaJIT trace snapshots); implies {@code jit}
 * @param runtime   the runtime of an interpreted frame ({@code luajit}); empty for other kinds
 */
public record Frame(FrameKind kind, String function, String file, int line, int startLine, long address,
                    CodeMapping mapping, boolean jit, boolean inlined, String runtime) {
    /** The frame's position in its source is not known (e.g. the bytecode index was not sampled). */
    public static final int LINE_UNKNOWN = 0;
    /** The code carries no line information (Lua bytecode stripped of debug info). */
    public static final int LINE_NO_INFO = -1;

    public Frame {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(runtime, "runtime");
        if (line < LINE_NO_INFO) {
            throw new IllegalArgumentException("line " + line + " < " + LINE_NO_INFO);
        }
        if (jit && kind != FrameKind.INTERPRETED) {
            throw new IllegalArgumentException("only interpreted frames run in compiled code, not " + kind);
        }
        if (inlined && !jit) {
            throw new IllegalArgumentException("only frames in compiled code are inlined");
        }
    }

    /** A kernel frame; {@code symbol} empty when kallsyms has no symbol for the address. */
    public static Frame kernel(String symbol, long address, CodeMapping mapping) {
        return new Frame(FrameKind.KERNEL, symbol, "", LINE_UNKNOWN, 0, address, mapping, false, false, "");
    }

    /** A native frame; {@code symbol} empty when unresolved (stripped file, between functions, unknown file). */
    public static Frame nativeCode(String symbol, long address, CodeMapping mapping) {
        return new Frame(FrameKind.NATIVE, symbol, "", LINE_UNKNOWN, 0, address, mapping, false, false, "");
    }

    /** A frame of an interpreted function; {@code file} empty for built-ins. */
    public static Frame interpreted(String runtime, String function, String file, int line, int startLine,
                                    boolean jit) {
        return new Frame(FrameKind.INTERPRETED, function, file, line, startLine, 0, CodeMapping.NONE, jit, false, runtime);
    }

    /** An explicit marker, e.g. {@code [unwind error: depth limit]}. */
    public static Frame error(String marker) {
        return new Frame(FrameKind.ERROR, marker, "", LINE_UNKNOWN, 0, 0, CodeMapping.NONE, false, false, "");
    }

    /** The same frame, run by the interpreter ({@code false}) or inside compiled code ({@code true}). */
    public Frame withJit(boolean compiled) {
        return compiled == jit ? this : new Frame(kind, function, file, line, startLine, address, mapping, compiled,
                inlined && compiled, runtime);
    }

    /** The same frame in compiled code, inlined into its caller's code by the compiler. */
    public Frame asInlined() {
        return inlined ? this : new Frame(kind, function, file, line, startLine, address, mapping, true, true, runtime);
    }

    /** Whether the function is known by name (false: only an address is known). */
    public boolean hasFunction() {
        return !function.isEmpty();
    }

    /**
     * The name shown for the frame without its kind suffix: the function; for an unresolved native frame
     * {@code file+0xOFFSET} (or {@code [unknown] 0xADDRESS} outside every mapping); for an unresolved kernel
     * frame {@code 0xADDRESS}; for an interpreted frame with a file {@code function (file:line)},
     * {@code function (file)} (line unknown) or {@code function (file:?)} (no line information).
     */
    public String displayName() {
        return switch (kind) {
            case NATIVE -> hasFunction() ? function : mapping.isNone() ? "[unknown] 0x" + Long.toHexString(address)
                    : mapping.fileName() + "+0x" + Long.toHexString(mapping.fileOffset(address));
            case KERNEL -> hasFunction() ? function : "0x" + Long.toHexString(address);
            case INTERPRETED -> {
                if (file.isEmpty()) {
                    yield function;
                }
                StringBuilder sb = new StringBuilder(function.length() + file.length() + 12)
                        .append(function).append(" (").append(file);
                if (line > 0) {
                    sb.append(':').append(line);
                } else if (line == LINE_NO_INFO) {
                    sb.append(":?");
                }
                yield sb.append(')').toString();
            }
            case ERROR -> function;
        };
    }

    /**
     * The label of folded stacks and flame graphs: {@link #displayName()} with {@code _[k]} for kernel frames,
     * {@code _[j]} for interpreted frames in compiled code and {@code _[i]} for those inlined there.
     */
    public String label() {
        return switch (kind) {
            case KERNEL -> displayName() + "_[k]";
            case INTERPRETED -> inlined ? displayName() + "_[i]" : jit ? displayName() + "_[j]" : displayName();
            default -> displayName();
        };
    }
}
