package io.moonwalk.agent.replay;

import io.moonwalk.agent.bpf.SampleRecord;
import io.moonwalk.agent.collect.SampleCollector;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.bpf.maps.InMemoryBpfMaps;
import io.moonwalk.bpf.replay.HostWalker;
import io.moonwalk.bpf.replay.TargetMemory;
import io.moonwalk.elf.DebugFileLocator;
import io.moonwalk.elf.core.CoreFile;
import io.moonwalk.elf.core.CoreMemory;
import io.moonwalk.elf.core.CoreThread;
import io.moonwalk.elf.core.CoreTrimmer;
import io.moonwalk.elf.core.ModuleLocator;
import io.moonwalk.frame.Frame;
import io.moonwalk.interpreter.ArrayWords;
import io.moonwalk.interpreter.Interpreter;
import io.moonwalk.interpreter.InterpreterContext;
import io.moonwalk.interpreter.InterpreterPlugin;
import io.moonwalk.interpreter.MappingHooks;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import io.moonwalk.unwinder.cfi.RuleDictionary;
import io.moonwalk.unwinder.cfi.UnwindTableCache;
import io.moonwalk.unwinder.sync.FailureLog;
import io.moonwalk.unwinder.sync.ProcessMapSync;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Replays a core file: the agent's map sync and interpreter plugins fill in-memory maps from the core (through a
 * stand-in /proc), the kernel's sample program runs on each thread's registers in its host build, and the records
 * are named by the same collector as {@code record}'s. Like a live session, the first walks may ask the plugins for
 * more (a LuaJIT VM's mcode areas are routed once a sample named the VM): the threads are walked again, after the
 * syncs they started, until the records no longer change.
 */
public final class CoreReplay {
    /** Walks of every thread before the records must have settled (a VM found, then its areas routed: 3). */
    static final int MAX_ROUNDS = 4;
    static final long SYNC_WAIT_NANOS = 5_000_000_000L;

    /**
     * @param missingFiles files the core maps that were not found, with why (their frames stay unnamed or end the walk)
     */
    public record Result(int pid, String command, List<ThreadStack> threads, Map<String, String> missingFiles,
            List<byte[]> records) {
    }

    private CoreReplay() {
    }

    /**
     * @param modules   a module store directory (files by build id), or null
     * @param liveFiles whether mapped files may be taken from their paths on this machine (when their build id is the
     *                  one the core recorded)
     */
    public static Result replay(Path corePath, Path modules, boolean liveFiles) throws IOException {
        return replay(corePath, modules, liveFiles, null);
    }

    /**
     * As {@link #replay(Path, Path, boolean)}; with {@code trimmedOut}, also writes there a copy of the core holding
     * only the memory the replay read (testdata/replay/regenerate stores those).
     */
    public static Result replay(Path corePath, Path modules, boolean liveFiles, Path trimmedOut) throws IOException {
        try (CoreFile core = CoreFile.open(corePath);
                ModuleLocator files = new ModuleLocator(core, modules, liveFiles);
                CoreProcRoot proc = CoreProcRoot.write(core, files)) {
            int pid = core.pid();
            InMemoryBpfMaps maps = InMemoryBpfMaps.unwinder(RecordLayout.PID_MAPS_ENTRIES,
                    RecordLayout.UNWIND_FILES_ENTRIES, RecordLayout.UNWIND_ENTRIES_ENTRIES,
                    RecordLayout.UNWIND_RULES_ENTRIES);
            FailureLog failures = new FailureLog();
            List<CoreMemory> readers = new ArrayList<>();
            Supplier<MemoryReader> memory = () -> {
                CoreMemory m = core.memory(files);
                synchronized (readers) {
                    readers.add(m);
                }
                return m;
            };
            List<Interpreter> interpreters = new ArrayList<>();
            try {
                InterpreterContext context = new InterpreterContext(maps, memory, failures);
                for (InterpreterPlugin plugin : InterpreterPlugin.installed()) {
                    interpreters.add(plugin.start(context));
                }
                DebugFileLocator debugFiles = files.debugFiles();
                UnwindTableCache tables = new UnwindTableCache(new RuleDictionary(),
                        UnwindTableCache.KERNEL_ENTRY_CAPACITY, debugFiles, UnwindTableCache.DEFAULT_NEGATIVE_CAPACITY,
                        UnwindTableCache.DEFAULT_RETAINED_TABLES);
                ProcessMapSync sync = new ProcessMapSync(maps, tables, failures, proc.root(),
                        MappingHooks.of(interpreters));
                sync.sync(pid);
                HostWalker walker = HostWalker.over(maps);
                TargetMemory target = targetMemory((CoreMemory) memory.get());
                List<CoreThread> threads = core.threads();
                List<List<byte[]>> records = settle(walker, target, core, interpreters);
                SampleCollector collector = new SampleCollector(Set.of(pid), 1, interpreters, null, proc.root(),
                        debugFiles);
                List<ThreadStack> stacks = new ArrayList<>();
                List<byte[]> all = new ArrayList<>();
                SampleRecord view = new SampleRecord();
                for (int i = 0; i < threads.size(); i++) {
                    for (byte[] r : records.get(i)) {
                        all.add(r);
                        if (view.wrap(MemorySegment.ofArray(r))) {
                            collector.onSample(view);
                        }
                    }
                    Profile p = collector.endWindow(0, 0);
                    stacks.add(stackOf(threads.get(i).tid(), core.command(), p));
                }
                if (trimmedOut != null) {
                    CoreTrimmer.write(core, core.touchedPages(), trimmedOut);
                }
                return new Result(pid, core.command(), List.copyOf(stacks), files.missing(), all);
            } finally {
                for (Interpreter in : interpreters) {
                    in.close();
                }
                synchronized (readers) {
                    for (CoreMemory m : readers) {
                        m.close();
                    }
                }
            }
        }
    }

    /** Walks every thread until a round gives the records of the round before (at most {@link #MAX_ROUNDS}). */
    private static List<List<byte[]>> settle(HostWalker walker, TargetMemory target, CoreFile core,
            List<Interpreter> interpreters) {
        List<List<byte[]>> previous = null;
        for (int round = 0; round < MAX_ROUNDS; round++) {
            List<List<byte[]>> now = new ArrayList<>();
            for (CoreThread t : core.threads()) {
                List<byte[]> rs = walker.sample(core.pid(), t.tid(), core.command(), t.registers(), target);
                now.add(rs);
                for (byte[] r : rs) {
                    inform(interpreters, r);
                }
            }
            if (previous != null && same(previous, now)) {
                return now;
            }
            previous = now;
            for (Interpreter in : interpreters) {
                in.awaitSyncs(SYNC_WAIT_NANOS);
            }
        }
        return previous;
    }

    /** What the drain thread tells the plugins about a record: pid events, and the VM of a sample. */
    private static void inform(List<Interpreter> interpreters, byte[] record) {
        ByteBuffer b = ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getInt(0);
        if (type == RecordLayout.EVENT_SAMPLE) {
            SampleRecord s = new SampleRecord();
            if (s.wrap(MemorySegment.ofArray(record)) && s.vm() != 0) {
                long[] words = new long[s.frameWords()];
                for (int i = 0; i < words.length; i++) {
                    words[i] = s.frameWord(i);
                }
                for (Interpreter in : interpreters) {
                    in.sampled(s.pid(), s.vm(), s.vmstate(), new ArrayWords(words, words.length));
                }
            }
        } else if (record.length >= 16) {
            for (Interpreter in : interpreters) {
                in.pidEvent(type, b.getInt(4), b.getLong(8));
            }
        }
    }

    private static boolean same(List<List<byte[]>> a, List<List<byte[]>> b) {
        for (int i = 0; i < a.size(); i++) {
            List<byte[]> x = a.get(i);
            List<byte[]> y = b.get(i);
            if (x.size() != y.size()) {
                return false;
            }
            for (int k = 0; k < x.size(); k++) {
                if (!Arrays.equals(x.get(k), y.get(k))) {
                    return false;
                }
            }
        }
        return true;
    }

    private static ThreadStack stackOf(int tid, String comm, Profile p) {
        if (p.entries().isEmpty()) {
            return new ThreadStack(tid, comm, List.of(Frame.error("[no sample]")), Map.of());
        }
        Profile.Entry e = p.entries().getFirst();
        List<Frame> leafFirst = new ArrayList<>(e.frames());
        java.util.Collections.reverse(leafFirst);
        return new ThreadStack(tid, comm, List.copyOf(leafFirst), e.labels());
    }

    private static TargetMemory targetMemory(CoreMemory m) {
        byte[] buf = new byte[CoreMemory.MAX_READ];
        return (address, dst) -> {
            int n = (int) dst.byteSize();
            if (n > buf.length || m.read(0, address, buf, 0, n) != ReadStatus.OK) {
                return false;
            }
            MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, 0, n);
            return true;
        };
    }
}
