package io.moonwalk.agent.symbolize;

import io.moonwalk.agent.aggregate.RawStackTable;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.agent.bpf.SampleRecord;
import io.moonwalk.luajit.sync.VmLabels;
import io.moonwalk.agent.collect.ProcessRegistry;
import io.moonwalk.agent.collect.ProcessRegistry.TrackedProcess;
import io.moonwalk.agent.profile.Frame;
import io.moonwalk.agent.profile.FrameKind;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.symbolize.demangle.Demangler;
import io.moonwalk.symbolize.kernel.KernelSymbols;
import io.moonwalk.symbolize.symbols.ProcessSymbols;
import io.moonwalk.symbolize.symbols.Resolved;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the raw stacks of one window into named frames. Frames are interned, so a frame shared by
 * many stacks is one object, and each distinct (pid, address) is resolved once per window.
 */
public final class StackSymbolizer {
    /** LuaJIT's ffid of a plain C function (lj_obj.h FF_C); built-ins have higher ones. */
    private static final int FF_C = 1;

    static final String KERNEL_MODULE = "[kernel.kallsyms]";

    private final KernelSymbols kernel;
    private final ProcessRegistry processes;
    private final Map<Frame, Frame> interned = new HashMap<>();
    private final Map<Long, Frame> kernelFrames = new HashMap<>();
    private final Map<PidAddress, Frame> nativeFrames = new HashMap<>();
    private final Map<LuaKey, Frame> luaFrames = new HashMap<>();
    private final LuaFrameSymbolizer lua;
    private long unknownNative;
    private long unknownKernel;

    private record PidAddress(int pid, int image, long word) {
    }

    /** A Lua frame as the kernel saw it, with its caller (the name depends on both). */
    private record LuaKey(int pid, long word, long pc, long fingerprint, long callerWord, long callerPc,
            long callerFingerprint) {
    }

    public StackSymbolizer(KernelSymbols kernel, ProcessRegistry processes) {
        this(kernel, processes, null);
    }

    /** @param lua names Lua frames; null leaves them as {@code [lua frame]} markers */
    public StackSymbolizer(KernelSymbols kernel, ProcessRegistry processes, LuaFrameSymbolizer lua) {
        this.kernel = kernel;
        this.processes = processes;
        this.lua = lua;
    }

    /** Builds the profile of a window from its raw table. */
    public Profile symbolize(RawStackTable table, long startEpochNanos, long durationNanos, long periodNanos,
                             LabelDecoder labels) {
        List<Profile.Entry> entries = new ArrayList<>(table.size());
        for (int e = 0; e < table.size(); e++) {
            int pid = table.pid(e);
            String thread = table.threadName(e);
            TrackedProcess proc = processes.find(pid, table.image(e));
            ProcessIdentity identity = proc != null ? proc.identity() : new ProcessIdentity(pid, thread, "", "");
            int n = table.wordCount(e);
            Frame[] leafFirst = new Frame[n];
            int frames = 0;
            String traceStart = null;
            for (int i = 0; i < n; i++) {
                long w = table.word(e, i);
                int extra = SampleRecord.extraWords(w);
                int kind = SampleRecord.kind(w);
                if (i + extra >= n) {
                    leafFirst[frames++] = intern(new Frame(FrameKind.ERROR, "[truncated frame]", ""));
                    break;
                }
                if (kind == RecordLayout.FRAME_LUA) {
                    leafFirst[frames++] = luaFrame(table, e, i, pid, proc);
                } else if (kind == RecordLayout.FRAME_LUA_JIT) {
                    Frame f = luaFrame(table, e, i, pid, proc);
                    leafFirst[frames++] = intern(new Frame(FrameKind.LUA_JIT, f.name(), f.module()));
                    if (traceStart == null && extra >= 4) {
                        traceStart = traceStart(table, e, i, pid, proc, f);
                    }
                } else if (kind == RecordLayout.FRAME_LUA_C) {
                    long extraWord = table.word(e, i + 1);
                    // a plain C function called from Lua is also on the native stack, right inside its
                    // Lua-stack frame (named there, or not at all in a stripped binary): show it once
                    boolean plainC = RecordLayout.luaCFfid(extraWord) == FF_C;
                    if (!plainC || frames == 0 || leafFirst[frames - 1].kind() != FrameKind.NATIVE) {
                        leafFirst[frames++] = luaCFrame(pid, proc, extraWord);
                    }
                } else {
                    leafFirst[frames++] = frame(pid, table.image(e), proc, w);
                }
                i += extra;
            }
            List<Frame> rootFirst = new ArrayList<>(frames);
            for (int i = frames - 1; i >= 0; i--) {
                rootFirst.add(leafFirst[i]);
            }
            Map<String, String> sampleLabels = labels.labels(table.labelKey(e));
            if (traceStart != null && sampleLabels.containsKey(VmLabels.TRACE)) {
                Map<String, String> withStart = new HashMap<>(sampleLabels);
                withStart.put(VmLabels.TRACE_START, traceStart);
                sampleLabels = Map.copyOf(withStart);
            }
            entries.add(new Profile.Entry(identity, thread, List.copyOf(rootFirst), sampleLabels, table.count(e)));
        }
        return new Profile(startEpochNanos, durationNanos, periodNanos, List.copyOf(entries));
    }

    private Frame frame(int pid, int image, TrackedProcess proc, long w) {
        int kind = SampleRecord.kind(w);
        return switch (kind) {
            case RecordLayout.FRAME_KERNEL -> kernelFrames.computeIfAbsent(w, this::kernelFrame);
            case RecordLayout.FRAME_NATIVE -> nativeFrames.computeIfAbsent(new PidAddress(pid, image, w),
                    k -> nativeFrame(proc, k.word()));
            case RecordLayout.FRAME_ERROR -> intern(new Frame(FrameKind.ERROR,
                    "[unwind error: " + ErrorReasons.describe(SampleRecord.errorReason(w)) + "]", ""));
            default -> intern(new Frame(FrameKind.ERROR, "[unknown frame kind " + kind + "]", ""));
        };
    }

    private Frame luaFrame(RawStackTable table, int e, int i, int pid, TrackedProcess proc) {
        long w = table.word(e, i);
        long pc = RecordLayout.luaPc(table.word(e, i + 1));
        long fp = table.word(e, i + 2);
        long cw = 0;
        long cpc = RecordLayout.LUA_PC_UNKNOWN;
        long cfp = 0;
        int j = i + 1 + SampleRecord.extraWords(w);
        int n = table.wordCount(e);
        if (j + 2 < n && SampleRecord.kind(table.word(e, j)) == RecordLayout.FRAME_LUA) {
            cw = table.word(e, j);
            cpc = RecordLayout.luaPc(table.word(e, j + 1));
            cfp = table.word(e, j + 2);
        }
        if (lua == null) {
            return intern(new Frame(FrameKind.LUA, "[lua frame]", ""));
        }
        LuaKey key = new LuaKey(pid, w, pc, fp, cw, cpc, cfp);
        Frame f = luaFrames.get(key);
        if (f == null) {
            f = intern(lua.luaFrame(pid, SampleRecord.address(w), pc, fp, cw == 0 ? 0 : SampleRecord.address(cw), cpc,
                    cfp, a -> cSymbol(proc, a)));
            luaFrames.put(key, f);
        }
        return f;
    }

    /**
     * Where the trace of the LUA_JIT frame at word i starts: the frame itself when the trace started in its
     * function, else the start proto named on its own (words 3 and 4: proto and fingerprint).
     */
    private String traceStart(RawStackTable table, int e, int i, int pid, TrackedProcess proc, Frame frame) {
        long startpt = table.word(e, i + 3);
        if (startpt == 0 || lua == null) {
            return null;
        }
        if (startpt == SampleRecord.address(table.word(e, i))) {
            return frame.name();
        }
        Frame f = lua.luaFrame(pid, startpt, RecordLayout.LUA_PC_UNKNOWN, table.word(e, i + 4), 0,
                RecordLayout.LUA_PC_UNKNOWN, 0, a -> cSymbol(proc, a));
        return f.name();
    }

    private Frame luaCFrame(int pid, TrackedProcess proc, long extra) {
        long cfunc = RecordLayout.luaCEntry(extra);
        int ffid = RecordLayout.luaCFfid(extra);
        if (lua == null) {
            return intern(new Frame(FrameKind.LUA, "[lua C function]", ""));
        }
        return intern(lua.cFrame(pid, ffid, cfunc, a -> cSymbol(proc, a)));
    }

    private static String cSymbol(TrackedProcess proc, long address) {
        ProcessSymbols symbols = proc == null ? null : proc.symbols();
        Resolved r = symbols == null ? null : symbols.resolve(address, false);
        return r == null ? null : r.symbol();
    }

    private Frame kernelFrame(long w) {
        long address = SampleRecord.address(w);
        int i = kernel == null ? -1 : kernel.lookup(address);
        if (i < 0) {
            unknownKernel++;
            return intern(new Frame(FrameKind.KERNEL, "0x" + Long.toHexString(address), KERNEL_MODULE));
        }
        String module = kernel.module(i) == null ? KERNEL_MODULE : "[" + kernel.module(i) + "]";
        return intern(new Frame(FrameKind.KERNEL, kernel.name(i), module));
    }

    private Frame nativeFrame(TrackedProcess proc, long w) {
        long address = SampleRecord.address(w);
        boolean isReturn = SampleRecord.isReturnAddress(w);
        ProcessSymbols symbols = proc == null ? null : proc.symbols();
        Resolved r = symbols == null ? null : symbols.resolve(address, isReturn);
        if (r == null && proc != null && !proc.exited()) {
            processes.refresh(proc);
            symbols = proc.symbols();
            r = symbols == null ? null : symbols.resolve(address, isReturn);
        }
        if (r == null) {
            unknownNative++;
            return intern(new Frame(FrameKind.NATIVE, "[unknown] 0x" + Long.toHexString(address), ""));
        }
        // C++ and Rust names are shown without their parameter lists: flame-graph labels stay short
        String name = r.symbol() != null ? Demangler.demangle(r.symbol(), false)
                : r.module() + "+0x" + Long.toHexString(r.fileOffset());
        if (r.symbol() == null) {
            unknownNative++;
        }
        return intern(new Frame(FrameKind.NATIVE, name, r.module()));
    }

    private Frame intern(Frame f) {
        Frame prior = interned.putIfAbsent(f, f);
        return prior != null ? prior : f;
    }

    /** Clears the per-window address caches (process maps can change between windows). */
    public void endWindow() {
        nativeFrames.clear();
        luaFrames.clear();
        if (interned.size() > 1_000_000) {
            interned.clear();
        }
    }

    public long unknownNativeFrames() {
        return unknownNative;
    }

    public long unknownKernelFrames() {
        return unknownKernel;
    }

    /** Maps a raw stack's label key to its sample labels. */
    @FunctionalInterface
    public interface LabelDecoder {
        Map<String, String> labels(long labelKey);

        LabelDecoder NONE = k -> Map.of();
    }
}
