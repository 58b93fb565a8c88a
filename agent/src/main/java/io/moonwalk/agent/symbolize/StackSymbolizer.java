package io.moonwalk.agent.symbolize;

import io.moonwalk.agent.aggregate.RawStackTable;
import io.moonwalk.agent.bpf.SampleRecord;
import io.moonwalk.agent.collect.ProcessRegistry.TrackedProcess;
import io.moonwalk.agent.collect.ProcessRegistry;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Stage;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.frame.FrameKind;
import io.moonwalk.interpreter.ArrayWords;
import io.moonwalk.interpreter.Interpreter;
import io.moonwalk.interpreter.InterpreterProcess;
import io.moonwalk.interpreter.NativeNames;
import io.moonwalk.process.Mapping;
import io.moonwalk.symbolize.demangle.Demangler;
import io.moonwalk.symbolize.kernel.KernelBuildIds;
import io.moonwalk.symbolize.kernel.KernelSymbols;
import io.moonwalk.symbolize.symbols.ProcessSymbols;
import io.moonwalk.symbolize.symbols.Resolved;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Turns the raw stacks of one window into named frames. Frames are interned, so a frame shared by
 * many stacks is one object, and each distinct (pid, address) is resolved once per window. Kernel, native and
 * error frames are named here; frames of an interpreter's kinds go to its plugin (the process's instance).
 */
public final class StackSymbolizer {
    /** The one frame of a stack whose naming failed (counted in {@link Stage#WINDOW}). */
    static final Frame NAMING_FAILED = Frame.error("[naming failed]");
    static final String KERNEL_MODULE = "[kernel.kallsyms]";
    /** Frame kinds are 4 bits wide in a frame word. */
    private static final int FRAME_KINDS = 16;

    private final KernelSymbols kernel;
    private final KernelBuildIds kernelBuildIds = new KernelBuildIds();
    private final Map<Mapping, CodeMapping> codeMappings = new HashMap<>();
    private final ProcessRegistry processes;
    private final Map<Frame, Frame> interned = new HashMap<>();
    private final Map<Long, Frame> kernelFrames = new HashMap<>();
    private final Map<PidAddress, Frame> nativeFrames = new HashMap<>();
    private final List<Interpreter> interpreters;
    /** The interpreter that names each frame kind, or null. */
    private final Interpreter[] byKind = new Interpreter[FRAME_KINDS];
    private final IntFunction<InterpreterProcess> instances;
    private long[] words = new long[RecordLayout.MAX_FRAME_WORDS];
    private final ArrayWords view = new ArrayWords(words, 0);
    /** Processes whose maps this window re-read past their back-off (one forced re-read per process and window). */
    private final java.util.Set<TrackedProcess> refreshedInWindow = new java.util.HashSet<>();
    private long unknownNative;
    private long unknownKernel;

    private record PidAddress(int pid, int image, long word) {
    }

    public StackSymbolizer(KernelSymbols kernel, ProcessRegistry processes) {
        this(kernel, processes, List.of(), pid -> null);
    }

    /**
     * @param interpreters the session's interpreter plugins
     * @param instances    the interpreter instance of a pid, or null
     */
    public StackSymbolizer(KernelSymbols kernel, ProcessRegistry processes, List<Interpreter> interpreters,
            IntFunction<InterpreterProcess> instances) {
        this.kernel = kernel;
        this.processes = processes;
        this.interpreters = List.copyOf(interpreters);
        this.instances = instances;
        for (int k = 0; k < FRAME_KINDS; k++) {
            for (Interpreter in : this.interpreters) {
                if (byKind[k] == null && in.namesFrameKind(k)) {
                    byKind[k] = in;
                }
            }
        }
    }

    /** Builds the CPU profile of a window from its raw table. */
    public Profile symbolize(RawStackTable table, long startEpochNanos, long durationNanos, long periodNanos) {
        return symbolize(table, startEpochNanos, durationNanos, periodNanos, SampleType.CPU);
    }

    /** Builds the profile of a window from its raw table, whose counts are values of {@code type}. */
    public Profile symbolize(RawStackTable table, long startEpochNanos, long durationNanos, long periodNanos,
            SampleType type) {
        List<Profile.Entry> entries = new ArrayList<>(table.size());
        for (int e = 0; e < table.size(); e++) {
            int pid = table.pid(e);
            String thread = table.threadName(e);
            TrackedProcess proc = processes.find(pid, table.image(e));
            ProcessIdentity identity = proc != null ? proc.identity() : new ProcessIdentity(pid, thread, "", "");
            int n = table.wordCount(e);
            if (words.length < n) {
                words = new long[n];
            }
            for (int i = 0; i < n; i++) {
                words[i] = table.word(e, i);
            }
            view.reset(words, n);
            try {
                Faults.inject(Stage.WINDOW, pid);
                entries.add(entry(table, e, pid, thread, proc, identity, n));
            } catch (RuntimeException | Error ex) {
                // one process's stack must not cost the window: its samples keep an explicit error frame
                Faults.contained(Stage.WINDOW, "naming a stack of pid " + pid, ex);
                entries.add(new Profile.Entry(identity, thread, List.of(NAMING_FAILED), Map.of(), table.count(e)));
            }
        }
        return new Profile(startEpochNanos, durationNanos, periodNanos, List.copyOf(entries), type);
    }

    /** Names entry {@code e} (its words already in {@link #view}). */
    private Profile.Entry entry(RawStackTable table, int e, int pid, String thread, TrackedProcess proc,
            ProcessIdentity identity, int n) {
        InterpreterProcess instance = instances.apply(pid);
        NativeNames natives = a -> cSymbol(proc, a);
        Frame[] leafFirst = new Frame[n];
        int frames = 0;
        for (int i = 0; i < n; i++) {
            long w = words[i];
            int extra = SampleRecord.extraWords(w);
            int kind = SampleRecord.kind(w);
            if (i + extra >= n) {
                leafFirst[frames++] = intern(Frame.error("[truncated frame]"));
                break;
            }
            Interpreter owner = byKind[kind & (FRAME_KINDS - 1)];
            if (owner != null) {
                boolean afterNative = frames > 0 && leafFirst[frames - 1].kind() == FrameKind.NATIVE;
                if (instance != null) {
                    List<Frame> fs = instance.frames(view, i, afterNative, natives);
                    if (frames + fs.size() > leafFirst.length) {
                        // inlined frames: more frames than words (never more than a few per compiled frame)
                        leafFirst = Arrays.copyOf(leafFirst, Math.max(leafFirst.length * 2, frames + fs.size()));
                    }
                    for (Frame f : fs) {
                        leafFirst[frames++] = intern(f);
                    }
                } else {
                    Frame f = owner.frameWithoutProcess(pid, view, i, afterNative, natives);
                    if (f != null) {
                        leafFirst[frames++] = intern(f);
                    }
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
        Map<String, String> sampleLabels = labels(pid, table.labelKey(e), instance, natives);
        return new Profile.Entry(identity, thread, List.copyOf(rootFirst), sampleLabels, table.count(e));
    }

    /** The labels of a stack's key: from the instance's interpreter, else the first interpreter that decodes it. */
    private Map<String, String> labels(int pid, long labelKey, InterpreterProcess instance, NativeNames natives) {
        if (labelKey == 0) {
            return Map.of();
        }
        for (Interpreter in : interpreters) {
            Map<String, String> l = in.labels(pid, labelKey, instance, view, natives);
            if (!l.isEmpty()) {
                return l;
            }
        }
        return Map.of();
    }

    private Frame frame(int pid, int image, TrackedProcess proc, long w) {
        int kind = SampleRecord.kind(w);
        return switch (kind) {
            case RecordLayout.FRAME_KERNEL -> kernelFrames.computeIfAbsent(w, this::kernelFrame);
            case RecordLayout.FRAME_NATIVE -> nativeFrames.computeIfAbsent(new PidAddress(pid, image, w),
                    k -> nativeFrame(proc, k.word()));
            case RecordLayout.FRAME_ERROR -> intern(Frame.error(
                    "[unwind error: " + errorReason(SampleRecord.errorReason(w)) + "]"));
            default -> intern(Frame.error("[unknown frame kind " + kind + "]"));
        };
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
            return intern(Frame.kernel("", address, CodeMapping.NONE));
        }
        String module = kernel.module(i);
        String buildId = module == null ? kernelBuildIds.kernel() : kernelBuildIds.module(module);
        CodeMapping mapping = new CodeMapping(module == null ? KERNEL_MODULE : "[" + module + "]",
                kernel.moduleStart(i), kernel.moduleLimit(i), 0, buildId);
        return intern(Frame.kernel(kernel.name(i), address, mapping));
    }

    /**
     * A native frame. Its address is the one symbolized: for a return address (every frame but the leaf) the
     * byte before it, inside the call instruction, so a backend that symbolizes the address itself finds the
     * caller's line, as we do.
     */
    private Frame nativeFrame(TrackedProcess proc, long w) {
        long address = SampleRecord.address(w);
        boolean isReturn = SampleRecord.isReturnAddress(w);
        ProcessSymbols symbols = proc == null ? null : proc.symbols();
        Resolved r = symbols == null ? null : symbols.resolve(address, isReturn);
        if (r == null && proc != null && !proc.exited()) {
            // once per process and window past the back-off: a JVM's JIT addresses would otherwise re-read its maps
            // for every distinct address
            processes.refresh(proc, refreshedInWindow.add(proc));
            symbols = proc.symbols();
            r = symbols == null ? null : symbols.resolve(address, isReturn);
        }
        long at = isReturn ? address - 1 : address;
        if (r == null) {
            unknownNative++;
            return intern(Frame.nativeCode("", at, CodeMapping.NONE));
        }
        if (r.symbol() == null) {
            unknownNative++;
        }
        // C++ and Rust names are shown without their parameter lists: flame-graph labels stay short
        String name = r.symbol() != null ? Demangler.demangle(r.symbol(), false) : "";
        return intern(Frame.nativeCode(name, at, codeMapping(r)));
    }

    private CodeMapping codeMapping(Resolved r) {
        Mapping m = r.mapping();
        CodeMapping known = codeMappings.get(m);
        if (known == null) {
            known = new CodeMapping(r.modulePath(), m.start(), m.end(), m.offset(),
                    r.buildId() == null ? "" : r.buildId(), r.htlHash() == null ? "" : r.htlHash());
            codeMappings.put(m, known);
        }
        return known;
    }

    private String errorReason(int reason) {
        String core = ErrorReasons.describe(reason);
        if (core != null) {
            return core;
        }
        for (Interpreter in : interpreters) {
            String text = in.errorReason(reason);
            if (text != null) {
                return text;
            }
        }
        return "reason " + reason;
    }

    private Frame intern(Frame f) {
        Frame prior = interned.putIfAbsent(f, f);
        return prior != null ? prior : f;
    }

    /** Clears the per-window address caches (process maps can change between windows). */
    public void endWindow() {
        nativeFrames.clear();
        codeMappings.clear();
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
}
