package io.moonwalk.agent.collect;

import io.moonwalk.agent.aggregate.RawStackTable;
import io.moonwalk.agent.bpf.RecordHandler;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.agent.bpf.SampleRecord;
import io.moonwalk.unwinder.sync.MapSyncWorker;
import io.moonwalk.agent.collect.ProcessRegistry;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.symbolize.StackSymbolizer;
import io.moonwalk.symbolize.kernel.KernelSymbols;
import io.moonwalk.symbolize.symbols.NativeSymbolizer;
import io.moonwalk.luajit.sync.LuajitFiles;
import io.moonwalk.luajit.sync.McodeSync;
import io.moonwalk.luajit.sync.VmLabels;
import io.moonwalk.agent.symbolize.LuaFrameSymbolizer;
import io.moonwalk.agent.symbolize.ProtoPrefetcher;
import io.moonwalk.luajit.detect.LuajitBinary;
import io.moonwalk.process.ProcessMemory;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Receives the kernel's records (on the drain thread), counts raw stacks for the current window
 * and, at the end of a window, names their frames. Shared by {@code record} and {@code agent}.
 *
 * <p>Processes are captured at their first sample while alive, so that stacks of processes that
 * exit before the window ends are still named. Not thread-safe: one drain thread owns it.
 */
public final class SampleCollector implements RecordHandler, AutoCloseable {
    /** Distinct stacks and frame words a window may hold before samples are dropped (and counted). */
    public static final int MAX_STACKS_PER_WINDOW = 1 << 20;
    public static final int MAX_WORDS_PER_WINDOW = 64 << 20;
    public static final int MAX_PROCESSES = 8192;
    /** How long a window's end waits for Lua protos still being prefetched. */
    static final long PREFETCH_WAIT_NANOS = 300_000_000L;

    private final RawStackTable table = new RawStackTable(MAX_STACKS_PER_WINDOW, MAX_WORDS_PER_WINDOW);
    private final NativeSymbolizer nativeSymbolizer;
    private final ProcessRegistry processes;
    private final Set<Integer> targets;
    private final Set<Integer> exitedTargets = new HashSet<>();
    private final Set<Integer> exitedInWindow = new HashSet<>();
    private final long[] scratch = new long[RecordLayout.MAX_FRAME_WORDS];
    private final long[] entryWords = new long[RecordLayout.MAX_FRAME_WORDS];
    private final long periodNanos;
    private KernelSymbols kernelSymbols;
    private MapSyncWorker mapSync;
    private final VmLabels vmLabels = new VmLabels();
    private final Map<Integer, LuajitBinary> luajitBinaries = new HashMap<>();
    private int lastBinaryPid;
    private LuajitBinary lastBinary;
    private LuajitFiles luajitFiles;
    private McodeSync mcodeSync;
    /** (pid, vm) pairs recently reported to the JIT sync: a direct-mapped cache, so a sample costs no lock */
    private static final int SEEN_VMS = 256;
    private final long[] seenVm = new long[SEEN_VMS];
    private final int[] seenPid = new int[SEEN_VMS];
    private ProcessMemory processMemory;
    private LuaFrameSymbolizer luaSymbolizer;
    private ProtoPrefetcher prefetcher;
    private long samples;
    private long droppedSamples;
    private long unknownNativeFrames;
    private long unknownKernelFrames;

    /**
     * @param targets the processes being recorded, or empty for the whole host
     * @param hz      the sampling frequency, for the profile's period
     */
    public SampleCollector(Set<Integer> targets, int hz) {
        this.targets = Set.copyOf(targets);
        this.periodNanos = 1_000_000_000L / hz;
        this.nativeSymbolizer = new NativeSymbolizer();
        this.processes = new ProcessRegistry(nativeSymbolizer, MAX_PROCESSES);
    }

    @Override
    public void onSample(SampleRecord r) {
        int pid = r.pid();
        int n = Math.min(r.frameWords(), scratch.length);
        for (int i = 0; i < n; i++) {
            scratch[i] = r.frameWord(i);
        }
        ProcessRegistry.TrackedProcess p = processes.find(pid);
        if (p == null) {
            p = processes.get(pid, r.comm());
        }
        samples++;
        long vm = r.vm();
        long labelKey = 0;
        boolean binaryLearned = false;
        LuajitBinary binary = null;
        if (vm != 0) {
            int trace = 0;
            boolean side = false;
            for (int i = r.kernelFrames(); i < n; i += 1 + SampleRecord.extraWords(scratch[i])) {
                if (SampleRecord.kind(scratch[i]) == RecordLayout.FRAME_LUA_JIT && i + 1 < n) {
                    trace = RecordLayout.luaJitTrace(scratch[i + 1]);
                    side = RecordLayout.luaJitSide(scratch[i + 1]);
                    break;
                }
            }
            labelKey = vmLabels.key(pid, vm, r.vmstate(), trace, side);
            if (mcodeSync != null) {
                int slot = (int) ((vm >>> 3) ^ pid * 0x9e3779b9L) & (SEEN_VMS - 1);
                if (seenVm[slot] != vm || seenPid[slot] != pid) {
                    seenVm[slot] = vm;
                    seenPid[slot] = pid;
                    mcodeSync.vmSeen(pid, vm);
                }
            }
            binary = binaryOf(pid);
            if (binary == null && luajitFiles != null) {
                // captured while the process is alive: its samples are named after the map sync forgot it
                binary = luajitFiles.binaryOf(pid).orElse(null);
                if (binary != null) {
                    luajitBinaries.put(pid, binary);
                    binaryLearned = true;
                }
            }
        }
        int stacks = table.size();
        if (!table.add(pid, p.image(), r.tid(), r.commWord(0), r.commWord(1), scratch, n, r.kernelFrames(), labelKey, 1L)) {
            droppedSamples++;
        }
        if (prefetcher != null && binary != null) {
            if (binaryLearned) {
                prefetchProcess(pid, binary);
            } else if (table.size() > stacks) {
                prefetch(pid, binary, scratch, n);
            }
        }
    }

    /**
     * The LuaJIT binary of {@code pid}, or null. Samples of one process come in runs, so the last answer is
     * kept: the per-sample path then neither boxes the pid nor hashes.
     */
    private LuajitBinary binaryOf(int pid) {
        if (pid != lastBinaryPid || lastBinary == null) {
            lastBinary = luajitBinaries.get(pid);
            lastBinaryPid = pid;
        }
        return lastBinary;
    }

    /** Stacks of {@code pid} that came in before its LuaJIT binary was known: their protos are read now. */
    private void prefetchProcess(int pid, LuajitBinary b) {
        for (int e = 0; e < table.size(); e++) {
            if (table.pid(e) == pid) {
                int n = Math.min(table.wordCount(e), entryWords.length);
                for (int i = 0; i < n; i++) {
                    entryWords[i] = table.word(e, i);
                }
                prefetch(pid, b, entryWords, n);
            }
        }
    }

    /** Queues the Lua frames of one stack (leaf first), each with its Lua caller, as the symbolizer pairs them. */
    private void prefetch(int pid, LuajitBinary b, long[] words, int n) {
        for (int i = 0; i < n; i++) {
            long w = words[i];
            int extra = SampleRecord.extraWords(w);
            if (i + extra >= n) {
                return;
            }
            if (SampleRecord.kind(w) == RecordLayout.FRAME_LUA) {
                long callerPt = 0;
                long callerPc = RecordLayout.LUA_PC_UNKNOWN;
                long callerFp = 0;
                int j = i + 1 + extra;
                if (j + 2 < n && SampleRecord.kind(words[j]) == RecordLayout.FRAME_LUA) {
                    callerPt = SampleRecord.address(words[j]);
                    callerPc = RecordLayout.luaPc(words[j + 1]);
                    callerFp = words[j + 2];
                }
                prefetcher.offer(pid, b, SampleRecord.address(w), RecordLayout.luaPc(words[i + 1]), words[i + 2],
                        callerPt, callerPc, callerFp);
            }
            i += extra;
        }
    }

    /**
     * Forwards the kernel's NEW_PID / UNKNOWN_PC requests and process exits to {@code worker}, which keeps the
     * native unwinder's maps in step (null: no forwarding).
     */
    public void useMapSync(MapSyncWorker worker) {
        this.mapSync = worker;
    }

    /** Where the LuaJIT binaries of processes are learned (from the map sync); null: Lua frames stay unnamed. */
    public void useLuajit(LuajitFiles files) {
        this.luajitFiles = files;
        if (files != null && prefetcher == null) {
            prefetcher = new ProtoPrefetcher(luaSymbolizer());
        }
    }

    /** Where VMs seen in samples and unknown PCs are reported, to route their mcode areas (null: nowhere). */
    public void useMcodeSync(McodeSync sync) {
        this.mcodeSync = sync;
    }

    @Override
    public void onPidEvent(int type, int pid, long pc) {
        McodeSync jit = mcodeSync;
        if (jit != null) {
            if (type == RecordLayout.EVENT_EXEC) {
                jit.processGone(pid);
            } else if (type == RecordLayout.EVENT_UNKNOWN_PC) {
                jit.unknownPc(pid);
            } else if (type == RecordLayout.EVENT_UNKNOWN_LEAF) {
                jit.leafDispatch(pid, pc);
            }
        }
        if (type == RecordLayout.EVENT_UNKNOWN_LEAF) {
            return;
        }
        if (type == RecordLayout.EVENT_EXEC) {
            // records after this one belong to the new image (the exec'ing thread emitted it before running any of
            // the new code, and de_thread had already ended the other threads)
            processes.execed(pid);
        }
        MapSyncWorker w = mapSync;
        if (w == null) {
            return;
        }
        if (type == RecordLayout.EVENT_EXEC) {
            w.execed(pid);
        } else if (type == RecordLayout.EVENT_NEW_PID) {
            w.newPid(pid);
        } else if (type == RecordLayout.EVENT_UNKNOWN_PC) {
            w.unknownPc(pid);
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
        if (mcodeSync != null) {
            mcodeSync.processGone(pid);
        }
        if (mapSync != null) {
            mapSync.exited(pid);
        }
        processes.exited(pid);
        if (luajitBinaries.containsKey(pid)) {
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
        if (prefetcher != null) {
            prefetcher.awaitIdle(PREFETCH_WAIT_NANOS);
        }
        StackSymbolizer symbolizer = new StackSymbolizer(kernelSymbols(), processes, luaSymbolizer());
        Profile profile = symbolizer.symbolize(table, startEpochNanos, durationNanos, periodNanos, vmLabels::labels);
        unknownNativeFrames += symbolizer.unknownNativeFrames();
        unknownKernelFrames += symbolizer.unknownKernelFrames();
        table.clear();
        for (int pid : exitedInWindow) {
            luajitBinaries.remove(pid);
            if (pid == lastBinaryPid) {
                lastBinary = null;
            }
            vmLabels.forget(pid);
        }
        exitedInWindow.clear();
        processes.forgetExited();
        return profile;
    }

    private LuaFrameSymbolizer luaSymbolizer() {
        if (luaSymbolizer == null) {
            processMemory = new ProcessMemory();
            luaSymbolizer = new LuaFrameSymbolizer(luajitBinaries::get, processMemory);
        }
        return luaSymbolizer;
    }

    /** Lua frame naming counters (null before the first window unless LuaJIT is in use). Thread-safe. */
    public LuaFrameSymbolizer luaFrames() {
        return luaSymbolizer;
    }

    /** The Lua proto prefetcher (null when LuaJIT is not in use). Its counters are thread-safe. */
    public ProtoPrefetcher protoPrefetcher() {
        return prefetcher;
    }

    /** Native frames of closed windows left without a symbol (per distinct address and window), since start. */
    public long unknownNativeFrames() {
        return unknownNativeFrames;
    }

    /** Kernel frames of closed windows outside every kallsyms symbol (per distinct address and window). */
    public long unknownKernelFrames() {
        return unknownKernelFrames;
    }

    /** Stops the prefetch thread. Call after the last window. */
    @Override
    public void close() {
        if (prefetcher != null) {
            prefetcher.close();
        }
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
