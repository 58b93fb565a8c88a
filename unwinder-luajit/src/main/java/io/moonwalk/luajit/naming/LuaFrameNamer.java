package io.moonwalk.luajit.naming;

import io.moonwalk.luajit.proto.BytecodeSet;
import io.moonwalk.luajit.proto.ProtoInfo;
import io.moonwalk.luajit.proto.ProtoReader;
import java.util.function.LongFunction;

/**
 * Names Lua frames the way LuaJIT's own tracebacks do, from outside the process.
 *
 * <p>Label format (folded stacks, HTML, pprof function names):
 * <ul>
 *   <li>Lua frame: {@code name (file:line)}, e.g. {@code fib (/srv/app.lua:12)}, {@code M.f (/srv/m.lua:3)},
 *       {@code obj:m (...)}, {@code __index (...)}. {@code name} comes from the caller's instruction at the call
 *       site (global, local, upvalue, field, method, metamethod); without a usable caller it is
 *       {@code main chunk} for a main chunk and {@code function <file:firstline>} otherwise. {@code file} is the
 *       chunk name shown as by {@link ChunkNames#display} ({@code @} and {@code =} stripped). {@code line} is the
 *       callee's current line from lineinfo; {@code (file)} alone when the callee's pc is unknown, and
 *       {@code (file:?)} when the proto carries no line info (stripped bytecode).</li>
 *   <li>Built-in (fast) function on the Lua stack: its library name, e.g. {@code pcall}, {@code string.gsub}.</li>
 *   <li>Plain C function on the Lua stack: the native symbol from the caller's symbolizer callback, else
 *       {@code C function 0x...}.</li>
 *   <li>A frame whose proto failed a check or changed since the sample: {@link #STALE} / {@link #INVALID}.</li>
 * </ul>
 *
 * Not thread-safe (it reads constant strings through its {@link ProtoReader}).
 */
public final class LuaFrameNamer {
    public static final String STALE = "[stale lua frame]";
    public static final String INVALID = "[invalid lua frame]";
    private static final int MAX_QUALIFIER_DEPTH = 3;

    private final ProtoReader reader;
    private final BytecodeSet bc;
    private final int fr2;
    private final FastFunctionNames builtins;
    private final LongFunction<String> nativeSymbols;

    /**
     * @param nativeSymbols maps a C function address in the target to its symbol, or returns null
     */
    public LuaFrameNamer(ProtoReader reader, FastFunctionNames builtins, LongFunction<String> nativeSymbols) {
        this.reader = reader;
        this.bc = reader.bytecodeSet();
        this.fr2 = reader.layout().gc64() ? 1 : 0;
        this.builtins = builtins;
        this.nativeSymbols = nativeSymbols;
    }

    /**
     * The name the caller's instruction at {@code callerPc} gives to what it calls (LuaJIT's
     * {@code lj_debug_funcname}): for a CALL-type instruction the name of the called slot, for an instruction
     * that triggers a metamethod the metamethod's name; null when nothing can be said.
     */
    public CallSiteName callSiteName(int pid, ProtoInfo caller, int callerPc) {
        if (caller == null || callerPc < 0 || callerPc >= caller.sizebc()) {
            return null;
        }
        int ins = caller.instruction(callerPc);
        int op = BytecodeSet.op(ins);
        int mm = bc.mm(op);
        if (mm == BytecodeSet.MM_CALL) {
            int slot = BytecodeSet.a(ins);
            if (op == bc.iterc) {
                slot -= 3;
            }
            return slotName(pid, caller, callerPc, slot, 0);
        }
        if (mm != bc.mmNone()) {
            return new CallSiteName(BytecodeSet.mmName(mm), NameKind.METAMETHOD, null);
        }
        return null;
    }

    /** LuaJIT's {@code lj_debug_slotname}: what was last stored into {@code slot} before {@code pc}. */
    private CallSiteName slotName(int pid, ProtoInfo pt, int pc, int slot, int depth) {
        int ip = pc;
        for (; ; ) { // restarts after following a MOV
            String local = pt.localName(ip, slot);
            if (local != null) {
                return new CallSiteName(local, NameKind.LOCAL, null);
            }
            boolean restarted = false;
            while (--ip > 0) {
                int ins = pt.instruction(ip);
                int op = BytecodeSet.op(ins);
                int ra = BytecodeSet.a(ins);
                int amode = bc.aMode(op);
                if (amode == BytecodeSet.MODE_BASE) {
                    if (slot >= ra && (op != bc.knil || slot <= BytecodeSet.d(ins))) {
                        return null;
                    }
                } else if (amode == BytecodeSet.MODE_DST && ra == slot) {
                    if (op == bc.mov) {
                        slot = BytecodeSet.d(ins);
                        restarted = true;
                        break;
                    }
                    if (op == bc.gget) {
                        String n = reader.kgcString(pid, pt, BytecodeSet.d(ins));
                        return n == null ? null : new CallSiteName(n, NameKind.GLOBAL, null);
                    }
                    if (op == bc.tgets) {
                        String n = reader.kgcString(pid, pt, BytecodeSet.c(ins));
                        if (n == null) {
                            return null;
                        }
                        int tab = BytecodeSet.b(ins);
                        boolean method = false;
                        if (ip > 0) {
                            int prev = pt.instruction(ip - 1);
                            method = BytecodeSet.op(prev) == bc.mov && BytecodeSet.a(prev) == ra + 1 + fr2
                                    && BytecodeSet.d(prev) == tab;
                        }
                        String qualifier = null;
                        if (depth < MAX_QUALIFIER_DEPTH) {
                            CallSiteName q = slotName(pid, pt, ip, tab, depth + 1);
                            if (q != null && q.kind() != NameKind.METAMETHOD && q.kind() != NameKind.METHOD) {
                                qualifier = q.display();
                            }
                        }
                        return new CallSiteName(n, method ? NameKind.METHOD : NameKind.FIELD, qualifier);
                    }
                    if (op == bc.uget) {
                        String n = pt.upvalueName(BytecodeSet.d(ins));
                        return n == null ? null : new CallSiteName(n, NameKind.UPVALUE, null);
                    }
                    return null;
                }
            }
            if (!restarted) {
                return null;
            }
        }
    }

    /**
     * The function name of a Lua frame: {@code callee} called from {@code caller} at {@code callerPc} (caller null
     * or pc -1 when the caller is C, a built-in, or unknown): the call site's name, else {@code main chunk} for a
     * main chunk, else {@code function <file:firstline>}.
     */
    public String functionName(int pid, ProtoInfo callee, ProtoInfo caller, int callerPc) {
        CallSiteName n = callSiteName(pid, caller, callerPc);
        if (n != null) {
            return n.display();
        }
        if (callee.isMainChunk()) {
            return "main chunk";
        }
        return "function <" + ChunkNames.display(callee.chunkname()) + ":" + callee.firstline() + ">";
    }

    /** Line is not known: the pc is unknown or out of range. */
    public static final int LINE_UNKNOWN = 0;
    /** The proto carries no line info (stripped bytecode). */
    public static final int LINE_NO_INFO = -1;

    /**
     * The current line of {@code callee} at {@code calleePc} (-1 if unknown): &gt; 0, {@link #LINE_UNKNOWN} or
     * {@link #LINE_NO_INFO}.
     */
    public static int currentLine(ProtoInfo callee, int calleePc) {
        if (calleePc < 0 || calleePc >= callee.sizebc()) {
            return LINE_UNKNOWN;
        }
        return callee.hasDebugInfo() ? callee.line(calleePc) : LINE_NO_INFO;
    }

    /**
     * Label of a Lua frame: {@code callee} running at {@code calleePc} (-1 if unknown), called from
     * {@code caller} at {@code callerPc}; {@code name (file:line)} from {@link #functionName} and
     * {@link #currentLine}.
     */
    public String luaFrameLabel(int pid, ProtoInfo callee, int calleePc, ProtoInfo caller, int callerPc) {
        String file = ChunkNames.display(callee.chunkname());
        String name = functionName(pid, callee, caller, callerPc);
        StringBuilder sb = new StringBuilder(name.length() + file.length() + 12).append(name).append(" (")
                .append(file);
        int line = currentLine(callee, calleePc);
        if (line > 0) {
            sb.append(':').append(line);
        } else if (line == LINE_NO_INFO) {
            sb.append(":?");
        }
        return sb.append(')').toString();
    }

    /** Label of a built-in function frame ({@code pcall}, {@code string.gsub}, ... or {@code builtin#N}). */
    public String fastFunctionLabel(int ffid) {
        return builtins.name(ffid);
    }

    /** Label of a plain C function frame: the native symbol of its entry point. */
    public String cFunctionLabel(long address) {
        String s = nativeSymbols == null ? null : nativeSymbols.apply(address);
        return s != null ? s : "C function 0x" + Long.toHexString(address);
    }
}
