package io.moonwalk.agent.collect;

import io.moonwalk.agent.aggregate.RawStackTable;
import io.moonwalk.agent.bpf.RecordHandler;
import io.moonwalk.agent.bpf.SampleRecord;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import io.moonwalk.agent.symbolize.StackSymbolizer;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.elf.DebugFileLocator;
import io.moonwalk.interpreter.ArrayWords;
import io.moonwalk.interpreter.Interpreter;
import io.moonwalk.interpreter.InterpreterProcess;
import io.moonwalk.symbolize.kernel.KernelSymbols;
import io.moonwalk.symbolize.symbols.NativeSymbolizer;
import io.moonwalk.unwinder.sync.MapSyncWorker;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Receives the kernel's records (on the drain thread), counts raw stacks for the current window
 * and, at the end of a window, names their frames. Built once per session with everything it forwards to.
 *
 * <p>Interpreter processes are captured at their first sample while alive (the plugin's per-process instance),
 * so that stacks of processes that exit before the window ends are still named. Not thread-safe: one drain
 * thread owns it.
 */
public final class SampleCollector implements RecordHandler {
    /**
     * Distinct stacks and frame words a window may hold before samples are dropped (and counted), at most:
     * the table's real bound also follows the heap ({@link #newWindowTable}).
     */
    public static final int MAX_STACKS_PER_WINDOW = 1 << 20;
    public static final int MAX_WORDS_PER_WINDOW = 64 << 20;
    public static final int MAX_PROCESSES = 8192;
    /** How long a window's end waits for interpreter reads (Lua protos) still in flight. */
    static final long PREFETCH_WAIT_NANOS = 300_000_000L;

    private final RawStackTable table = newWindowTable();
    /**
     * The event profiles' tables of the window by record kind (RecordLayout.SAMPLE_KIND_*: off-CPU waits with the
     * nanoseconds blocked, mmap calls), each made at its first record: most sessions have none.
     */
    private final RawStackTable[] eventTables = new RawStackTable[EVENT_TYPES.length];
    /** The event profiles named at the last window end, by kind; null where the session has no such table. */
    private final Profile[] lastEvents = new Profile[EVENT_TYPES.length];
    private long eventRecords;
    /** What each record kind's values measure (index: RecordLayout.SAMPLE_KIND_*; 0 is the CPU sample). */
    private static final SampleType[] EVENT_TYPES = {SampleType.CPU, SampleType.OFF_CPU, SampleType.MMAP};
    private final NativeSymbolizer nativeSymbolizer;
    private final ProcessRegistry processes;
    private final Set<Integer> targets;
    private final Set<Integer> exitedTargets = new HashSet<>();
    private final Set<Integer> exitedInWindow = new HashSet<>();
    private final long[] scratch = new long[RecordLayout.MAX_FRAME_WORDS];
    private final long[] entryWords = new long[RecordLayout.MAX_FRAME_WORDS];
    private final ArrayWords view = new ArrayWords(scratch, 0);
    private final ArrayWords entryView = new ArrayWords(entryWords, 0);
    private final long periodNanos;
    private final List<Interpreter> interpreters;
    /** Forwards the kernel's sync requests and exits; null when nothing keeps the maps (replay, tests). */
    private final MapSyncWorker mapSync;
    private KernelSymbols kernelSymbols;
    /** The interpreter instance of each process that has one, captured at its first sample while alive. */
    private final Map<Integer, InterpreterProcess> instances = new HashMap<>();
    private int lastInstancePid;
    private InterpreterProcess lastInstance;
    private long samples;
    private long droppedSamples;
    private long unknownNativeFrames;
    private long unknownKernelFrames;

    /**
     * @param targets      the processes being recorded, or empty for the whole host
     * @param hz           the sampling frequency, for the profile's period
     * @param interpreters the session's interpreter plugins
     * @param mapSync      where the kernel's NEW_PID / UNKNOWN_PC requests and exits go (null: nowhere)
     */
    public SampleCollector(Set<Integer> targets, int hz, List<Interpreter> interpreters, MapSyncWorker mapSync) {
        this(targets, hz, interpreters, mapSync, Path.of("/proc"));
    }

    /** @param procRoot where processes are read: /proc, or a core file's stand-in (coredump replay) */
    public SampleCollector(Set<Integer> targets, int hz, List<Interpreter> interpreters, MapSyncWorker mapSync,
            Path procRoot) {
        this(targets, hz, interpreters, mapSync, procRoot, DebugFileLocator.system());
    }

    /** @param debugFiles where stripped files' debug files are looked for (a replay: its module store's) */
    public SampleCollector(Set<Integer> targets, int hz, List<Interpreter> interpreters, MapSyncWorker mapSync,
            Path procRoot, DebugFileLocator debugFiles) {
        this.targets = Set.copyOf(targets);
        this.periodNanos = 1_000_000_000L / hz;
        this.interpreters = List.copyOf(interpreters);
        this.mapSync = mapSync;
        this.nativeSymbolizer = new NativeSymbolizer(NativeSymbolizer.DEFAULT_MAX_FILES, procRoot, debugFiles);
        this.processes = new ProcessRegistry(nativeSymbolizer, MAX_PROCESSES, procRoot);
    }

    /** The raw stack table of a window, bounded by this JVM's maximum heap ({@link RawStackTable#boundedByHeap}). */
    static RawStackTable newWindowTable() {
        return RawStackTable.boundedByHeap(Runtime.getRuntime().maxMemory(), MAX_STACKS_PER_WINDOW,
                MAX_WORDS_PER_WINDOW);
    }

    @Override
    public void onSample(SampleRecord r) {
        int pid = r.pid();
        int n = Math.min(r.frameWords(), scratch.length);
        for (int i = 0; i < n; i++) {
            scratch[i] = r.frameWord(i);
        }
        view.reset(scratch, n);
        ProcessRegistry.TrackedProcess p = processes.find(pid);
        if (p == null || p.exited()) { // exited: a sample after the exit event is a new process on a recycled PID
            p = processes.get(pid, r.comm());
        }
        if (r.kind() != RecordLayout.SAMPLE_KIND_CPU) {
            addEvent(r, p, n);
            return;
        }
        samples++;
        long context = r.vm();
        long labelKey = 0;
        boolean learned = false;
        InterpreterProcess instance = null;
        if (context != 0) {
            for (int k = 0; k < interpreters.size() && labelKey == 0; k++) {
                labelKey = interpreters.get(k).sampled(pid, context, r.vmstate(), view);
            }
            instance = instanceOf(pid);
            if (instance == null) {
                instance = learnInstance(pid);
                learned = instance != null;
            }
        }
        int stacks = table.size();
        if (!table.add(pid, p.image(), r.tid(), r.commWord(0), r.commWord(1), scratch, n, r.kernelFrames(), labelKey, 1L)) {
            droppedSamples++;
        }
        if (learned) {
            showWindowStacks(pid, instance);
        } else if (instance != null && table.size() > stacks) {
            instance.stackSeen(view);
        }
    }

    /**
     * One event record (an off-CPU wait with the nanoseconds blocked, mmap calls): its stack with its value. No VM
     * labels: its Lua frames are named like a CPU sample's (the interpreter plugin already knows the process, or
     * learns it from the CPU samples; an event stack alone does not teach it). A kind this version does not know is
     * counted as dropped.
     */
    private void addEvent(SampleRecord r, ProcessRegistry.TrackedProcess p, int n) {
        int kind = r.kind();
        if (kind <= 0 || kind >= eventTables.length) {
            droppedSamples++;
            return;
        }
        if (eventTables[kind] == null) {
            eventTables[kind] = newWindowTable();
        }
        eventRecords++;
        if (!eventTables[kind].add(r.pid(), p.image(), r.tid(), r.commWord(0), r.commWord(1), scratch, n,
                r.kernelFrames(), 0L, Math.max(0, r.value()))) {
            droppedSamples++;
        }
        InterpreterProcess instance = instanceOf(r.pid());
        if (instance != null) {
            instance.stackSeen(view);
        }
    }

    /**
     * The interpreter instance of {@code pid}, or null. Samples of one process come in runs, so the last answer is
     * kept: the per-sample path then neither boxes the pid nor hashes.
     */
    private InterpreterProcess instanceOf(int pid) {
        if (pid != lastInstancePid || lastInstance == null) {
            lastInstance = instances.get(pid);
            lastInstancePid = pid;
        }
        return lastInstance;
    }

    /** Asks the plugins whether {@code pid} runs their interpreter; the first that claims it keeps it. */
    private InterpreterProcess learnInstance(int pid) {
        for (Interpreter in : interpreters) {
            InterpreterProcess ip = in.process(pid);
            if (ip != null) {
                instances.put(pid, ip);
                lastInstancePid = pid;
                lastInstance = ip;
                return ip;
            }
        }
        return null;
    }

    /** Stacks of {@code pid} that came in this window before its instance was known (the current one included). */
    private void showWindowStacks(int pid, InterpreterProcess instance) {
        for (int e = 0; e < table.size(); e++) {
            if (table.pid(e) == pid) {
                int n = Math.min(table.wordCount(e), entryWords.length);
                for (int i = 0; i < n; i++) {
                    entryWords[i] = table.word(e, i);
                }
                instance.stackSeen(entryView.reset(entryWords, n));
            }
        }
    }

    @Override
    public void onPidEvent(int type, int pid, long pc) {
        for (Interpreter in : interpreters) {
            in.pidEvent(type, pid, pc);
        }
        if (type == RecordLayout.EVENT_EXEC) {
            // records after this one belong to the new image (the exec'ing thread emitted it before running any of
            // the new code, and de_thread had already ended the other threads)
            processes.execed(pid);
        }
        if (mapSync == null) {
            return;
        }
        if (type == RecordLayout.EVENT_EXEC) {
            mapSync.execed(pid);
        } else if (type == RecordLayout.EVENT_NEW_PID) {
            processes.retireIfRecycled(pid); // no marker for a PID we know: its old owner may be gone
            mapSync.newPid(pid);
        } else if (type == RecordLayout.EVENT_UNKNOWN_PC) {
            mapSync.unknownPc(pid);
            // the PC is in a mapping newer than the symbolizer's snapshot (dlopen, exec): re-read it so the
            // window's frames in that mapping get names (rate-limited by the kernel's per-pid event limit)
            ProcessRegistry.TrackedProcess p = processes.find(pid);
            if (p != null) {
                processes.refresh(p);
            }
        }
    }

    @Override
    public void onExit(int pid, long ktimeNanos) {
        for (Interpreter in : interpreters) {
            in.processExited(pid);
        }
        if (mapSync != null) {
            mapSync.exited(pid);
        }
        processes.exited(pid);
        if (instances.containsKey(pid)) {
            exitedInWindow.add(pid);
        }
        if (targets.contains(pid)) {
            exitedTargets.add(pid);
        }
    }

    /** True when processes were targeted and every one of them has exited. */
    public boolean targetsGone() {
        return !targets.isEmpty() && exitedTargets.size() == targets.size();
    }

    /**
     * Closes the current window: names its stacks, then empties the table and forgets exited
     * processes.
     */
    public Profile endWindow(long startEpochNanos, long durationNanos) {
        for (Interpreter in : interpreters) {
            in.beforeNaming(PREFETCH_WAIT_NANOS);
        }
        processes.reconcile(); // exits lost to a full ring buffer; recycled PIDs
        StackSymbolizer symbolizer = new StackSymbolizer(kernelSymbols(), processes, interpreters, instances::get);
        Profile profile = symbolizer.symbolize(table, startEpochNanos, durationNanos, periodNanos);
        for (int k = 1; k < eventTables.length; k++) {
            lastEvents[k] = eventTables[k] == null ? null
                    : symbolizer.symbolize(eventTables[k], startEpochNanos, durationNanos, 0, EVENT_TYPES[k]);
        }
        unknownNativeFrames += symbolizer.unknownNativeFrames();
        unknownKernelFrames += symbolizer.unknownKernelFrames();
        clearTables();
        for (int pid : exitedInWindow) {
            instances.remove(pid);
            if (pid == lastInstancePid) {
                lastInstance = null;
            }
        }
        exitedInWindow.clear();
        processes.forgetExited();
        return profile;
    }

    /**
     * Gives up the current window after its naming failed (the fault is counted by the caller): the table is emptied
     * and exited processes are forgotten, as {@link #endWindow} would have done, so the next window starts clean.
     */
    public void abandonWindow() {
        clearTables();
        java.util.Arrays.fill(lastEvents, null);
        for (int pid : exitedInWindow) {
            instances.remove(pid);
        }
        lastInstance = null;
        exitedInWindow.clear();
        processes.forgetExited();
    }

    /** Native frames of closed windows left without a symbol (per distinct address and window), since start. */
    public long unknownNativeFrames() {
        return unknownNativeFrames;
    }

    /** Kernel frames of closed windows outside every kallsyms symbol (per distinct address and window). */
    public long unknownKernelFrames() {
        return unknownKernelFrames;
    }

    private KernelSymbols kernelSymbols() {
        if (kernelSymbols == null) {
            try {
                kernelSymbols = KernelSymbols.load();
            } catch (Exception e) {
                System.getLogger(SampleCollector.class.getName()).log(System.Logger.Level.WARNING,
                        "kernel frames stay unnamed: " + e.getMessage());
            }
        }
        return kernelSymbols;
    }

    private void clearTables() {
        table.clear();
        for (RawStackTable t : eventTables) {
            if (t != null) {
                t.clear();
            }
        }
    }

    /**
     * The off-CPU profile of the window {@link #endWindow} closed last (blocked nanoseconds per stack), or null when
     * no wait was recorded since the session began.
     */
    public Profile lastOffCpuProfile() {
        return lastEvents[RecordLayout.SAMPLE_KIND_OFF_CPU];
    }

    /**
     * The mmap event profile of the window {@link #endWindow} closed last (calls per stack), or null when no such call
     * was recorded since the session began.
     */
    public Profile lastMmapProfile() {
        return lastEvents[RecordLayout.SAMPLE_KIND_MMAP];
    }

    /** Event records (off-CPU waits, mmap calls) received since start. */
    public long eventRecords() {
        return eventRecords;
    }

    /** Samples received since start. */
    public long samples() {
        return samples;
    }

    /** Samples dropped because a window's table was full, since start. */
    public long droppedSamples() {
        return droppedSamples;
    }

    public ProcessRegistry processes() {
        return processes;
    }

    public NativeSymbolizer nativeSymbolizer() {
        return nativeSymbolizer;
    }
}
