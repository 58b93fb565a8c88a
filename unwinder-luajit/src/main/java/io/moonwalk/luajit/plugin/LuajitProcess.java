package io.moonwalk.luajit.plugin;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.interpreter.FrameWords;
import io.moonwalk.frame.Frame;
import io.moonwalk.interpreter.InterpreterProcess;
import io.moonwalk.interpreter.NativeNames;
import io.moonwalk.luajit.detect.LuajitBinary;
import io.moonwalk.luajit.jit.SnapshotFrames;
import io.moonwalk.luajit.jit.SnapshotResult;
import io.moonwalk.luajit.sync.VmLabels;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One process running LuaJIT binary {@link #binary}, captured at its first sample while alive so that its frames
 * are named after the map sync forgot it.
 */
final class LuajitProcess implements InterpreterProcess {
    /** LuaJIT's ffid of a plain C function (lj_obj.h FF_C); built-ins have higher ones. */
    private static final int FF_C = 1;

    private final LuajitInterpreter interpreter;
    private final int pid;
    private final LuajitBinary binary;

    /** @param binary null: not known (frames become marked frames; nothing is read) */
    LuajitProcess(LuajitInterpreter interpreter, int pid, LuajitBinary binary) {
        this.interpreter = interpreter;
        this.pid = pid;
        this.binary = binary;
    }

    LuajitBinary binary() {
        return binary;
    }

    /** Queues the Lua frames of one stack (leaf first), each with its Lua caller, as the naming pairs them. */
    @Override
    public void stackSeen(FrameWords words) {
        int n = words.length();
        for (int i = 0; i < n; i++) {
            long w = words.word(i);
            int extra = FrameWords.extraWords(w);
            if (i + extra >= n) {
                return;
            }
            if (FrameWords.kind(w) == RecordLayout.FRAME_LUA) {
                long callerPt = 0;
                long callerPc = RecordLayout.LUA_PC_UNKNOWN;
                long callerFp = 0;
                int j = i + 1 + extra;
                if (j + 2 < n && FrameWords.kind(words.word(j)) == RecordLayout.FRAME_LUA) {
                    callerPt = FrameWords.address(words.word(j));
                    callerPc = RecordLayout.luaPc(words.word(j + 1));
                    callerFp = words.word(j + 2);
                }
                interpreter.prefetcher().offer(pid, binary, FrameWords.address(w), RecordLayout.luaPc(words.word(i + 1)),
                        words.word(i + 2), callerPt, callerPc, callerFp);
            }
            i += extra;
        }
    }

    @Override
    public Frame frame(FrameWords stack, int i, boolean afterNative, NativeNames natives) {
        long w = stack.word(i);
        return switch (FrameWords.kind(w)) {
            case RecordLayout.FRAME_LUA -> luaFrame(stack, i, natives);
            case RecordLayout.FRAME_LUA_JIT -> luaFrame(stack, i, natives).withJit(true);
            case RecordLayout.FRAME_LUA_C -> {
                long extraWord = stack.word(i + 1);
                int ffid = RecordLayout.luaCFfid(extraWord);
                // a plain C function called from Lua is also on the native stack, right inside its Lua-stack frame
                // (named there, or not at all in a stripped binary): show it once
                if (ffid == FF_C && afterNative) {
                    yield null;
                }
                yield interpreter.symbolizer().cFrame(pid, binary, ffid, RecordLayout.luaCEntry(extraWord),
                        natives::symbolAt);
            }
            default -> throw new IllegalArgumentException("not a LuaJIT frame kind: " + FrameWords.kind(w));
        };
    }

    /**
     * A trace's frame with the calls LuaJIT inlined into the trace at the sampled position, leaf first, from the
     * trace's snapshot; when no snapshot names them (counted by the symbolizer), the trace's frame as the kernel
     * saw it. Other frames: {@link #frame}.
     */
    @Override
    public List<Frame> frames(FrameWords stack, int i, boolean afterNative, NativeNames natives) {
        long w = stack.word(i);
        if (FrameWords.kind(w) != RecordLayout.FRAME_LUA_JIT || binary == null
                || FrameWords.extraWords(w) < RecordLayout.LUA_JIT_EXTRA_WORDS) {
            Frame f = frame(stack, i, afterNative, natives);
            return f == null ? List.of() : List.of(f);
        }
        long cw = 0;
        long cpc = RecordLayout.LUA_PC_UNKNOWN;
        long cfp = 0;
        int j = i + 1 + FrameWords.extraWords(w);
        if (j + 2 < stack.length() && FrameWords.kind(stack.word(j)) == RecordLayout.FRAME_LUA) {
            cw = stack.word(j);
            cpc = RecordLayout.luaPc(stack.word(j + 1));
            cfp = stack.word(j + 2);
        }
        long w1 = stack.word(i + 1);
        long fp = stack.word(i + 2);
        long startpt = stack.word(i + 3);
        long trace = stack.word(i + 5);
        long pc = stack.word(i + 6);
        LuajitInterpreter.JitKey key = new LuajitInterpreter.JitKey(pid, w, w1, fp, startpt, trace, pc, cw, cpc, cfp);
        List<Frame> known = interpreter.namedJit(key);
        if (known != null) {
            return known;
        }
        long pt = FrameWords.address(w);
        SnapshotResult r = interpreter.symbolizer().snapshotFrames(pid, binary, trace, RecordLayout.luaJitTrace(w1),
                startpt, pc, pt);
        List<Frame> out;
        if (r instanceof SnapshotFrames sf) {
            Frame[] leafFirst = new Frame[sf.size()];
            for (int d = sf.size() - 1; d >= 1; d--) {
                leafFirst[sf.size() - 1 - d] = interpreter.symbolizer().luaFrame(pid, binary, sf.proto(d), sf.pc(d),
                        sf.fingerprint(d), sf.proto(d - 1), sf.pc(d - 1), d == 1 ? fp : sf.fingerprint(d - 1),
                        natives::symbolAt).asInlined();
            }
            leafFirst[sf.size() - 1] = interpreter.symbolizer().luaFrame(pid, binary, pt, sf.pc(0), fp,
                    cw == 0 ? 0 : FrameWords.address(cw), cpc, cfp, natives::symbolAt).withJit(true);
            out = List.of(leafFirst);
        } else {
            out = List.of(luaFrame(stack, i, natives).withJit(true));
        }
        interpreter.rememberJit(key, out);
        return out;
    }

    /** The (interpreted) frame of the LUA or LUA_JIT frame at word i, named with its Lua caller. */
    private Frame luaFrame(FrameWords t, int i, NativeNames natives) {
        long w = t.word(i);
        long pc = RecordLayout.luaPc(t.word(i + 1));
        long fp = t.word(i + 2);
        long cw = 0;
        long cpc = RecordLayout.LUA_PC_UNKNOWN;
        long cfp = 0;
        int j = i + 1 + FrameWords.extraWords(w);
        int n = t.length();
        if (j + 2 < n && FrameWords.kind(t.word(j)) == RecordLayout.FRAME_LUA) {
            cw = t.word(j);
            cpc = RecordLayout.luaPc(t.word(j + 1));
            cfp = t.word(j + 2);
        }
        LuajitInterpreter.NameKey key = new LuajitInterpreter.NameKey(pid, w, pc, fp, cw, cpc, cfp);
        Frame f = interpreter.named(key);
        if (f == null) {
            f = interpreter.symbolizer().luaFrame(pid, binary, FrameWords.address(w), pc, fp,
                    cw == 0 ? 0 : FrameWords.address(cw), cpc, cfp, natives::symbolAt);
            interpreter.remember(key, f);
        }
        return f;
    }

    /** The labels of {@code labelKey}, with where the sample's trace starts. */
    Map<String, String> labels(long labelKey, FrameWords stack, NativeNames natives) {
        Map<String, String> labels = interpreter.vmLabels().labels(labelKey);
        if (!labels.containsKey(VmLabels.TRACE)) {
            return labels;
        }
        String start = traceStart(stack, natives);
        if (start == null) {
            return labels;
        }
        Map<String, String> withStart = new HashMap<>(labels);
        withStart.put(VmLabels.TRACE_START, start);
        return Map.copyOf(withStart);
    }

    /**
     * Where the trace of the stack's first LUA_JIT frame starts: the frame itself when the trace started in its
     * function, else the start proto named on its own (words 3 and 4: proto and fingerprint).
     */
    private String traceStart(FrameWords t, NativeNames natives) {
        int n = t.length();
        for (int i = 0; i < n; i++) {
            long w = t.word(i);
            int extra = FrameWords.extraWords(w);
            if (i + extra >= n) {
                return null;
            }
            if (FrameWords.kind(w) == RecordLayout.FRAME_LUA_JIT && extra >= 4) {
                long startpt = t.word(i + 3);
                if (startpt == FrameWords.address(w)) {
                    return luaFrame(t, i, natives).displayName();
                }
                if (startpt != 0) {
                    return interpreter.symbolizer().luaFrame(pid, binary, startpt, RecordLayout.LUA_PC_UNKNOWN,
                        t.word(i + 4), 0, RecordLayout.LUA_PC_UNKNOWN, 0, natives::symbolAt).displayName();
                }
            }
            i += extra;
        }
        return null;
    }
}
