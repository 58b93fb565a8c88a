package io.moonwalk.agent.replay;

import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a replayed stack against the ground truth stored beside its core: gdb's unwind of the core (the fixture
 * builds' DWARF) for the native frames, the workload's own {@code debug.traceback()} for the Lua frames. Returns
 * the disagreements (empty: every frame agrees).
 */
final class ReplayTruth {
    /** One gdb frame: "normal|inline PC NAME". */
    record GdbFrame(boolean inline, long pc, String name) {
        static GdbFrame parse(String line) {
            String[] p = line.split(" ", 3);
            return new GdbFrame(p[0].equals("inline"), Long.parseUnsignedLong(p[1].substring(2), 16), p[2]);
        }

        /**
         * A frame of the LuaJIT interpreter (the DynASM blob's symbols), which the walker replaces by Lua frames.
         * lj_vm_ffi_call follows the blob and has its own unwind info: an ordinary native frame.
         */
        boolean interpreter() {
            return (name.startsWith("lj_BC_") || name.startsWith("lj_vm_") || name.startsWith("lj_ff_")
                    || name.startsWith("lj_cont_")) && !name.equals("lj_vm_ffi_call");
        }
    }

    /** One traceback entry: a Lua function at file:line, or a C function by name. */
    record LuaFrame(String file, int line, String name) {
    }

    /**
     * One trace as LuaJIT itself reported it (testdata/replay/workloads/jit_events.lua, kept as jit.txt): where it
     * starts ({@code chunk:line} of its first bytecode), its parent (0: a root trace) and its machine code.
     */
    record JitTrace(int number, int parent, String start, long mcode, long size) {
        boolean holds(long pc) {
            return Long.compareUnsigned(pc, mcode) >= 0 && Long.compareUnsigned(pc, mcode + size) < 0;
        }
    }

    /**
     * The traces alive at the core, from the workload's trace events ({@code moonwalk-jit start|stop|abort|flush}):
     * a stop after its start makes a trace; a flush forgets all before it.
     */
    static List<JitTrace> jitTruth(List<String> lines) {
        Map<Integer, String[]> started = new HashMap<>();
        Map<Integer, JitTrace> alive = new TreeMap<>();
        for (String l : lines) {
            String[] p = l.split(" ");
            switch (p[1]) {
                case "start" -> started.put(Integer.parseInt(p[2]), p);
                case "stop" -> {
                    int no = Integer.parseInt(p[2]);
                    String[] st = started.get(no);
                    if (st != null) {
                        String chunkLine = st[5].substring(0, st[5].lastIndexOf(':') + 1) + st[6];
                        alive.put(no, new JitTrace(no, Integer.parseInt(st[3]), chunkLine,
                                Long.parseUnsignedLong(p[3].substring(2), 16), Long.parseLong(p[4])));
                    }
                }
                case "flush" -> {
                    started.clear();
                    alive.clear();
                }
                default -> {
                    // abort: the trace number is reused by the next start
                }
            }
        }
        return List.copyOf(alive.values());
    }

    private static final Pattern LUA_LINE = Pattern.compile("^\\t(.+?):(\\d+): in (.+)$");
    private static final Pattern C_NAMED = Pattern.compile("^\\t\\[C\\]: in function '(.+)'$");
    private static final Pattern QUOTED = Pattern.compile("^(?:function|local|upvalue|field|method|global) '(.+)'$");
    /** GCC's clone suffixes (symtab names) that gdb's DWARF names do not carry. */
    private static final Pattern CLONE = Pattern.compile("(\\.(isra|constprop|part|cold|lto_priv)\\.\\d+)+$");
    /** glibc's hidden internal aliases (DWARF names) of exported functions: __GI___qsort_r is qsort_r. */
    private static final Pattern GLIBC_ALIAS = Pattern.compile("^(__GI_)?_*");

    private ReplayTruth() {
    }

    /**
     * The Lua frames the tracebacks give, leaf first. A file may hold several tracebacks (one per lua_State, the
     * innermost written last); one headed "moonwalk-truth-resumer" was written by the code that resumed the next
     * one, so the built-in resume sits between them.
     */
    static List<LuaFrame> luaTruth(List<String> traceback) {
        List<List<LuaFrame>> blocks = new ArrayList<>();
        List<LuaFrame> cur = null;
        for (String l : traceback) {
            if (l.startsWith("moonwalk-truth")) {
                cur = new ArrayList<>();
                if (l.equals("moonwalk-truth-resumer")) {
                    cur.add(new LuaFrame("", 0, "resume"));
                }
                blocks.add(cur);
                continue;
            }
            if (cur == null) {
                continue;
            }
            Matcher m = LUA_LINE.matcher(l);
            Matcher c = C_NAMED.matcher(l);
            if (m.matches()) {
                String what = m.group(3);
                Matcher q = QUOTED.matcher(what);
                String name = what.equals("main chunk") ? "main chunk" : q.matches() ? q.group(1) : what;
                cur.add(new LuaFrame(m.group(1), Integer.parseInt(m.group(2)), name));
            } else if (c.matches()) {
                cur.add(new LuaFrame("", 0, c.group(1)));
            }
            // "[C]: at 0x...": an unnamed C function, which the stack shows as its native frame
        }
        List<LuaFrame> out = new ArrayList<>();
        for (int i = blocks.size() - 1; i >= 0; i--) {
            out.addAll(blocks.get(i));
        }
        return out;
    }

    /** Disagreements of the replayed Lua frames (INTERPRETED kind, leaf first) with the tracebacks. */
    static List<String> checkLua(List<Frame> stack, List<LuaFrame> truth) {
        List<String> bad = new ArrayList<>();
        List<Frame> lua = stack.stream().filter(f -> f.kind() == FrameKind.INTERPRETED).toList();
        if (lua.size() != truth.size()) {
            bad.add("Lua frames: " + lua.size() + " replayed, " + truth.size() + " in the traceback: "
                    + lua.stream().map(Frame::label).toList() + " vs " + truth);
            return bad;
        }
        for (int i = 0; i < lua.size(); i++) {
            Frame f = lua.get(i);
            LuaFrame t = truth.get(i);
            // a traceback names a C function by its call site; an FFI call (ffi.C.qsort(...)) runs the cdata's __call
            // built-in, which is what the frame names
            boolean name = t.name.equals(f.function()) || f.function().endsWith("." + t.name)
                    || f.function().endsWith(":" + t.name) || (t.file.isEmpty() && f.function().equals("cdata.__call"));
            boolean place = t.file.isEmpty() ? f.file().isEmpty() : t.file.equals(f.file()) && t.line == f.line();
            if (!name || !place) {
                bad.add("Lua frame " + i + ": replayed " + f.label() + ", traceback " + t);
            }
        }
        return bad;
    }

    /**
     * Disagreements of the replayed native frames with gdb's normal (not inlined) frames: each gdb frame of the
     * interpreter stands for the run of Lua frames the walker put in its place; every other one must be the next
     * native frame, at the same PC (the leaf's own, the callers' return address, which the frame holds minus one)
     * and with the same function (modulo GCC's clone suffixes, and the {@code _impl} glibc's symbol table adds to an
     * exported alias). {@code upTo}: gdb frames compared (gdb stops being truth where it cannot unwind).
     */
    static List<String> checkNative(List<Frame> stack, List<GdbFrame> gdb, int upTo) {
        return checkNative(stack, gdb, upTo, pc -> false);
    }

    /**
     * As {@link #checkNative(List, List, int)}, for stripped binaries: gdb names a frame "??" where the file has no
     * symbol for its PC; such a frame in the LuaJIT VM ({@code inVm}: a stripped libluajit) is the interpreter's, any
     * other is compared by its PC only.
     */
    static List<String> checkNative(List<Frame> stack, List<GdbFrame> gdb, int upTo, LongPredicate inVm) {
        List<String> bad = new ArrayList<>();
        int i = 0;
        int n = 0;
        for (GdbFrame g : gdb) {
            if (g.inline) {
                continue;
            }
            if (n++ >= upTo) {
                break;
            }
            boolean unnamed = g.name.equals("??");
            if (g.interpreter() || (unnamed && inVm.test(g.pc))) {
                while (i < stack.size() && (stack.get(i).kind() == FrameKind.INTERPRETED
                        || stack.get(i).kind() == FrameKind.ERROR)) {
                    i++;
                }
                continue;
            }
            if (i >= stack.size()) {
                bad.add("gdb frame " + g + " has no replayed frame");
                continue;
            }
            Frame f = stack.get(i++);
            long want = i == 1 ? g.pc : g.pc - 1;
            boolean named = unnamed || sameFunction(f.function(), g.name);
            if (f.kind() != FrameKind.NATIVE || f.address() != want || !named) {
                bad.add("frame " + (i - 1) + ": replayed " + f.label() + " at 0x" + Long.toHexString(f.address())
                        + ", gdb " + g.name + " at 0x" + Long.toHexString(g.pc));
            }
        }
        if (upTo >= gdb.size() && i != stack.size()) {
            bad.add("replayed frames beyond gdb's: " + stack.subList(i, stack.size()).stream().map(Frame::label).toList());
        }
        return bad;
    }

    static boolean sameFunction(String replayed, String gdb) {
        String a = GLIBC_ALIAS.matcher(CLONE.matcher(replayed).replaceAll("")).replaceFirst("");
        String b = GLIBC_ALIAS.matcher(CLONE.matcher(gdb).replaceAll("")).replaceFirst("");
        return a.equals(b) || b.equals(a + "_impl");
    }
}
