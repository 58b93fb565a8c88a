package io.moonwalk.unwinder.sync;

import io.moonwalk.bpf.maps.BpfMap;
import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.bpf.maps.MapFill;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.bpf.maps.Errno;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.unwinder.lpm.LpmPrefixes;
import io.moonwalk.unwinder.lpm.MappingBias;
import io.moonwalk.unwinder.lpm.MappingValue;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import io.moonwalk.process.ProcessStart;
import io.moonwalk.unwinder.cfi.FileIdentity;
import io.moonwalk.unwinder.cfi.UnwindTable;
import io.moonwalk.unwinder.cfi.UnwindTableCache;
import io.moonwalk.unwinder.cfi.UnwindRule;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Installs what the kernel walker needs for one process (docs/native-unwinding.md): for every executable mapping
 * of {@code /proc/PID/maps} the file's unwind table (built once per file by the {@link UnwindTableCache}, written to
 * {@code unwind_entries}/{@code unwind_rules}/{@code unwind_files} once per file), the mapping's LPM prefixes with
 * its load bias, and finally the PID marker that tells the walker the process is synced. A re-sync diffs old
 * and new mappings; {@link #remove} takes everything out again and releases the tables.
 *
 * <p>When {@code pid_maps} is full the process is rolled back (no marker): its samples keep the frame-pointer
 * stack with a "not synced" error frame, and the drop is counted. A file whose table does not fit keeps the
 * frame-pointer fallback. Thread-safe (synchronized); meant to be driven by one {@link MapSyncWorker}.
 */
public final class ProcessMapSync {
    /** Outcome of one {@link #sync}. */
    public enum Result { SYNCED, UNCHANGED, GONE, PID_MAPS_FULL }

    private static final int MAPPING_BYTES = MappingValue.BYTES;
    private static final int FILE_TABLE_BYTES = (int) RecordLayout.FILE_TABLE.byteSize();
    private static final int ENTRY_BYTES = (int) RecordLayout.UNWIND_ENTRY.byteSize();
    private static final int RULE_BYTES = (int) RecordLayout.UNWIND_RULE.byteSize();
    private static final int INDEX_BYTES = (int) RecordLayout.INDEX_KEY.byteSize();
    /** Entries written per batch syscall (bounds the transient arrays to 64 KiB + 32 KiB). */
    private static final int BATCH = 8192;

    /** One executable mapping as installed: its prefixes and the table reference it holds (or null). */
    private record Installed(int[] prefixLengths, long[] addresses, int prefixes, FileIdentity table,
            FileIdentity extended, int extensionFlags) {
    }

    /** Identity of a mapping line: a changed mapping at the same range is a different key. */
    private record MappingKey(long start, long end, long offset, int devMajor, int devMinor, long inode, String path) {
        static MappingKey of(Mapping m) {
            return new MappingKey(m.start(), m.end(), m.offset(), m.devMajor(), m.devMinor(), m.inode(), m.path());
        }
    }

    private static final class ProcessState {
        final Map<MappingKey, Installed> mappings = new HashMap<>();
        boolean marker;
        /** {@link ProcessStart#ticks} at the first sync: tells this process from a later one with its PID. */
        long startTicks = ProcessStart.GONE;
        /** pid_maps entries this process holds (prefixes + marker). */
        int entries;
    }

    /** A mapping left unrouted because its process is over its share of pid_maps (kept so it is not retried). */
    private static final Installed SKIPPED = new Installed(new int[0], new long[0], 0, null, null, 0);

    /** No process may hold more than this share of pid_maps: one process with a pathological map must not starve all. */
    static final int MAX_SHARE_DIVISOR = 16;
    /** ... but every process may hold this many entries (a small trie fills up instead: PID_MAPS_FULL). */
    static final int MIN_SHARE = 1024;

    /** The most pid_maps entries one process may hold. */
    int maxEntriesPerProcess() {
        return Math.max(MIN_SHARE, pidMaps.maxEntries() / MAX_SHARE_DIVISOR);
    }

    private final BpfMap pidMaps;
    private final BpfMap files;
    private final BpfMap entries;
    private final BpfMap rules;
    private final UnwindTableCache cache;
    private final FailureLog failures;
    private final Path procRoot;
    private final MappingExtension extension;
    private final Map<Integer, ProcessState> processes = new HashMap<>();
    private final Set<Long> publishedFiles = new HashSet<>();
    private final int[] splitLengths = new int[LpmPrefixes.MAX_PREFIXES];
    private final long[] splitAddresses = new long[LpmPrefixes.MAX_PREFIXES];
    private final byte[] key = new byte[LpmPrefixes.KEY_BYTES];
    private final byte[] value = new byte[MAPPING_BYTES];
    private byte[] vdso;
    private boolean vdsoRead;
    private int rulesWritten;
    private long pidMapEntries;
    private long pidMapDrops;
    private long fileDrops;
    private long entryDrops;
    private long ruleDrops;
    private long syncs;
    private long fallbackMappings;
    private long shareDrops;
    private long reconciled;

    public ProcessMapSync(BpfMaps maps, UnwindTableCache cache, FailureLog failures) {
        this(maps, cache, failures, Path.of("/proc"));
    }

    /** @param procRoot where {@code PID/maps} and {@code PID/map_files} are read (tests point it elsewhere) */
    public ProcessMapSync(BpfMaps maps, UnwindTableCache cache, FailureLog failures, Path procRoot) {
        this(maps, cache, failures, procRoot, MappingExtension.NONE);
    }

    /** @param extension per-file additions (LuaJIT interpreters), consulted for every executable file mapping */
    public ProcessMapSync(BpfMaps maps, UnwindTableCache cache, FailureLog failures, Path procRoot,
            MappingExtension extension) {
        this.extension = extension;
        this.pidMaps = maps.map(BpfMaps.PID_MAPS);
        this.files = maps.map(BpfMaps.UNWIND_FILES);
        this.entries = maps.map(BpfMaps.UNWIND_ENTRIES);
        this.rules = maps.map(BpfMaps.UNWIND_RULES);
        this.cache = cache;
        this.failures = failures;
        this.procRoot = procRoot;
        if (cache.entryCapacity() > entries.maxEntries()) {
            throw new IllegalArgumentException("the table cache hands out " + cache.entryCapacity()
                    + " entries but map unwind_entries holds " + entries.maxEntries());
        }
        if (cache.dictionary().capacity() > rules.maxEntries()) {
            throw new IllegalArgumentException("the rule dictionary holds " + cache.dictionary().capacity()
                    + " rules but map unwind_rules holds " + rules.maxEntries());
        }
    }

    /** Installs or updates everything for {@code pid} from its current /proc maps. */
    public synchronized Result sync(int pid) {
        syncs++;
        ProcessMaps maps;
        try {
            maps = ProcessMaps.read(procRoot.resolve(Integer.toString(pid)).resolve("maps"));
        } catch (NoSuchFileException e) {
            remove(pid);
            return Result.GONE;
        } catch (IOException e) {
            failures.report("maps:" + e.getClass().getName(), "cannot read /proc/" + pid + "/maps (" + e
                    + "); its stacks stay frame-pointer only until it can be read");
            remove(pid);
            return Result.GONE;
        }
        ProcessState state = processes.computeIfAbsent(pid, p -> new ProcessState());
        if (state.startTicks == ProcessStart.GONE) {
            state.startTicks = ProcessStart.ticks(procRoot, pid);
        }
        Map<MappingKey, Mapping> wanted = new HashMap<>();
        for (Mapping m : maps.mappings()) {
            if (m.isExecutable() && (m.isFileBacked() || m.isAnonymous() || m.isVdso())) {
                wanted.put(MappingKey.of(m), m);
            }
        }
        boolean changed = false;
        // file mappings first: they tell the extension whether this is a LuaJIT process, whose anonymous
        // executable memory (mcode areas) is routed per area and VM by the JIT sync, not here. Stale entries go
        // before anything is written (a changed mapping at the same range shares its trie keys).
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1 && extension.ownsAnonymous(pid)) {
                wanted.values().removeIf(Mapping::isAnonymous);
            }
            for (Iterator<Map.Entry<MappingKey, Installed>> it = state.mappings.entrySet().iterator(); it.hasNext();) {
                Map.Entry<MappingKey, Installed> e = it.next();
                if (!wanted.containsKey(e.getKey())) {
                    uninstall(pid, e.getValue());
                    it.remove();
                    changed = true;
                }
            }
            for (Map.Entry<MappingKey, Mapping> e : wanted.entrySet()) {
                if (e.getValue().isAnonymous() != (pass == 1) || state.mappings.containsKey(e.getKey())) {
                    continue;
                }
                Installed inst = install(pid, e.getValue());
                if (inst == null) {
                    remove(pid);
                    return Result.PID_MAPS_FULL;
                }
                state.mappings.put(e.getKey(), inst);
                changed = true;
            }
        }
        if (!state.marker) {
            encodeKey(pid, LpmPrefixes.PID_BITS + Long.SIZE, 0);
            long[] mark = extension.marker(pid);
            int rc = pidMaps.update(key, mappingValue(mark[0], 0, RecordLayout.MAP_PID_MARKER, (int) mark[1]));
            if (rc != 0) {
                pidMapFull(pid, rc);
                remove(pid);
                return Result.PID_MAPS_FULL;
            }
            pidMapEntries++;
            state.marker = true;
            changed = true;
        }
        return changed ? Result.SYNCED : Result.UNCHANGED;
    }

    /**
     * Removes what is installed for processes that are gone or whose PID now belongs to another
     * process (start time differs): the exit event can be lost when the ring buffer is full, and a
     * recycled PID must never be walked with the old process's tables. Returns the PIDs removed.
     */
    public synchronized List<Integer> reconcile() {
        List<Integer> gone = new ArrayList<>();
        for (var e : processes.entrySet()) {
            long now = ProcessStart.ticks(procRoot, e.getKey());
            if (now == ProcessStart.GONE || (e.getValue().startTicks != ProcessStart.GONE && now != e.getValue().startTicks)) {
                gone.add(e.getKey());
            }
        }
        for (int pid : gone) {
            remove(pid);
        }
        reconciled += gone.size();
        return gone;
    }

    /** Processes removed by {@link #reconcile} (their exit was not seen, or their PID was recycled). */
    public synchronized long reconciled() {
        return reconciled;
    }

    /** Mappings left unrouted because their process was over its share of pid_maps. */
    public synchronized long shareDrops() {
        return shareDrops;
    }

    /** Removes everything installed for {@code pid} and releases its tables. Idempotent. */
    public synchronized void remove(int pid) {
        ProcessState state = processes.remove(pid);
        if (state == null) {
            return;
        }
        if (state.marker) {
            encodeKey(pid, LpmPrefixes.PID_BITS + Long.SIZE, 0);
            int rc = pidMaps.delete(key);
            if (rc == 0 || rc == Errno.ENOENT) { // ENOENT: an exec dropped it and its event was lost
                pidMapEntries--;
            }
        }
        for (Installed inst : state.mappings.values()) {
            uninstall(pid, inst);
        }
        extension.processRemoved(pid);
    }

    /**
     * The kernel deleted {@code pid}'s marker (its exec program does, so that the walker stops using the old image's
     * maps): forget it, so that the next {@link #sync} diffs the new image against the old one and writes the marker
     * again.
     */
    public synchronized void markerDropped(int pid) {
        ProcessState s = processes.get(pid);
        if (s != null && s.marker) {
            s.marker = false;
            pidMapEntries--;
        }
    }

    /** Whether the kernel's pid_maps holds {@code pid}'s marker (false after an exec dropped it). */
    public synchronized boolean markerInKernel(int pid) {
        encodeKey(pid, LpmPrefixes.PID_BITS + Long.SIZE, 0);
        byte[] out = new byte[MAPPING_BYTES];
        return pidMaps.lookup(key, out)
                && MappingValue.kind(out) == RecordLayout.MAP_PID_MARKER;
    }

    public synchronized boolean isSynced(int pid) {
        ProcessState s = processes.get(pid);
        return s != null && s.marker;
    }

    public synchronized Set<Integer> syncedPids() {
        return Set.copyOf(processes.keySet());
    }

    /** LPM prefixes installed for {@code pid} (excluding the marker). */
    public synchronized int prefixCount(int pid) {
        ProcessState s = processes.get(pid);
        return s == null ? 0 : s.mappings.values().stream().mapToInt(Installed::prefixes).sum();
    }

    /** Fill of every map this class writes. */
    public synchronized List<MapFill> fill() {
        return List.of(
                new MapFill(pidMaps.name(), pidMapEntries, pidMaps.maxEntries(), pidMapDrops),
                new MapFill(files.name(), publishedFiles.size(), files.maxEntries(), fileDrops),
                new MapFill(entries.name(), cache.liveEntries(), entries.maxEntries(), entryDrops + cache.refusals()),
                new MapFill(rules.name(), rulesWritten, rules.maxEntries(), ruleDrops));
    }

    /** Executable mappings installed without a table (frame-pointer fallback), since start. */
    public synchronized long fallbackMappings() {
        return fallbackMappings;
    }

    public synchronized long syncs() {
        return syncs;
    }

    // ---- one mapping ----

    /** Null when pid_maps is full (what was written for this mapping is taken out again). */
    private Installed install(int pid, Mapping m) {
        FileIdentity table = null;
        long fileId = 0;
        long bias = 0;
        TableRef ref = null;
        if (m.isFileBacked() || m.isVdso()) {
            ref = m.isVdso() ? vdsoTable(m) : fileTable(pid, m);
            if (ref != null) {
                table = ref.identity;
                fileId = ref.published ? table.fileId() : 0;
                bias = ref.bias;
            }
        }
        if (fileId == 0) {
            fallbackMappings++;
        }
        FileIdentity extended = ref != null && ref.extensionFlags != 0 ? ref.identity : null;
        int flags = extended != null ? ref.extensionFlags : 0;
        int n = LpmPrefixes.split(m.start(), m.end(), splitLengths, splitAddresses);
        ProcessState st = processes.get(pid);
        if (st != null && st.entries + n > maxEntriesPerProcess()) {
            shareDrops++;
            failures.report("pid_maps:share", "pid " + pid + " would hold more than its share of pid_maps ("
                    + maxEntriesPerProcess() + " entries); its further mappings"
                    + " are not routed (frame-pointer fallback) so that one process cannot starve the others");
            if (table != null) {
                release(table);
            }
            if (extended != null) {
                extension.uninstall(pid, extended, flags);
            }
            return SKIPPED;
        }
        byte[] v = mappingValue(fileId, bias, RecordLayout.MAP_NATIVE, flags);
        for (int i = 0; i < n; i++) {
            encodeKey(pid, splitLengths[i], splitAddresses[i]);
            int rc = pidMaps.update(key, v);
            if (rc != 0) {
                pidMapFull(pid, rc);
                for (int j = 0; j < i; j++) {
                    encodeKey(pid, splitLengths[j], splitAddresses[j]);
                    if (pidMaps.delete(key) == 0) {
                        pidMapEntries--;
                    }
                }
                if (table != null) {
                    release(table);
                }
                if (extended != null) {
                    extension.uninstall(pid, extended, flags);
                }
                return null;
            }
            pidMapEntries++;
        }
        if (st != null) {
            st.entries += n;
        }
        int[] lens = new int[n];
        long[] addrs = new long[n];
        System.arraycopy(splitLengths, 0, lens, 0, n);
        System.arraycopy(splitAddresses, 0, addrs, 0, n);
        return new Installed(lens, addrs, n, table, extended, flags);
    }

    private void uninstall(int pid, Installed inst) {
        ProcessState s = processes.get(pid);
        if (s != null) {
            s.entries -= inst.prefixes();
        }
        for (int i = 0; i < inst.prefixes(); i++) {
            encodeKey(pid, inst.prefixLengths()[i], inst.addresses()[i]);
            if (pidMaps.delete(key) == 0) {
                pidMapEntries--;
            }
        }
        if (inst.table() != null) {
            release(inst.table());
        }
        if (inst.extended() != null) {
            extension.uninstall(pid, inst.extended(), inst.extensionFlags());
        }
    }

    private void pidMapFull(int pid, int errno) {
        pidMapDrops++;
        failures.report("pid_maps:" + errno, "map pid_maps refused an entry for pid " + pid + " (errno " + errno
                + (errno == Errno.ENOSPC || errno == Errno.E2BIG ? ": full, " + pidMaps.maxEntries() + " entries" : "")
                + "); such processes keep frame-pointer stacks marked 'process not synced' until entries are freed");
    }

    // ---- tables ----

    /** A reference on a file's table; {@code published}: its entries are in the kernel maps. */
    private record TableRef(FileIdentity identity, long bias, boolean published, int extensionFlags) {
    }

    private TableRef fileTable(int pid, Mapping m) {
        Path path = procRoot.resolve(Integer.toString(pid)).resolve("map_files").resolve(m.mapFilesName());
        FileIdentity identity;
        long bias;
        int flags;
        try (ElfFile elf = ElfFile.open(path)) {
            identity = FileIdentity.of(elf, path);
            OptionalLong b = MappingBias.of(m, elf);
            if (b.isEmpty()) {
                failures.report("bias:" + identity, m.filePath() + ": no PT_LOAD segment maps file offset 0x"
                        + Long.toHexString(m.offset()) + "; frames in it use frame pointers");
                return null;
            }
            bias = b.getAsLong();
            flags = extension.install(pid, m, identity, elf);
        } catch (NoSuchFileException e) {
            return null; // the mapping (or process) went away meanwhile
        } catch (IOException | RuntimeException e) {
            failures.report("open:" + m.filePath(), "cannot read " + m.filePath() + " (via " + path + "): " + e
                    + "; frames in it use frame pointers");
            return null;
        }
        Path debugLookup = Path.of(m.filePath());
        TableRef ref = acquire(identity, bias, debugLookup, () -> ElfFile.open(path), m.filePath());
        if (ref == null) {
            if (flags != 0) {
                extension.uninstall(pid, identity, flags);
            }
            return null;
        }
        return new TableRef(ref.identity, ref.bias, ref.published, flags);
    }

    private TableRef vdsoTable(Mapping m) {
        if (!vdsoRead) {
            vdsoRead = true;
            try {
                vdso = VdsoImage.read().orElse(null);
            } catch (IOException e) {
                failures.report("vdso", "cannot read this process's [vdso] (" + e + "); vDSO frames use frame pointers");
            }
        }
        if (vdso == null) {
            return null;
        }
        try (ElfFile elf = ElfFile.of(ByteBuffer.wrap(vdso), "[vdso]")) {
            FileIdentity identity = FileIdentity.of(elf, Path.of("/proc/self/exe"));
            OptionalLong b = MappingBias.of(m, elf);
            if (b.isEmpty() || m.size() != vdso.length) {
                return null; // not the image we know (another kernel's? a container with its own?)
            }
            return acquire(identity, b.getAsLong(), null, () -> ElfFile.of(ByteBuffer.wrap(vdso), "[vdso]"), "[vdso]");
        } catch (IOException | RuntimeException e) {
            failures.report("vdso-elf", "the [vdso] image does not parse (" + e + "); vDSO frames use frame pointers");
            return null;
        }
    }

    private TableRef acquire(FileIdentity identity, long bias, Path debugLookup, UnwindTableCache.ElfOpener opener,
            String what) {
        UnwindTableCache.Acquisition a = cache.acquire(identity, debugLookup, opener);
        unpublishEvicted();
        switch (a) {
            case UnwindTableCache.Installed inst -> {
                return new TableRef(identity, bias, publish(inst, what), 0);
            }
            case UnwindTableCache.Failed f -> {
                failures.report("cfi:" + identity, what + ": no unwind table (" + f.reason()
                        + "); its frames use frame pointers");
                return null;
            }
            case UnwindTableCache.Refused r -> {
                failures.report("refused:" + identity, what + ": " + r.reason());
                return null;
            }
        }
    }

    /** Writes a newly placed table to the kernel; true when the file is (now) in unwind_files. */
    private boolean publish(UnwindTableCache.Installed inst, String what) {
        long fileId = inst.fileId();
        if (publishedFiles.contains(fileId)) {
            return true;
        }
        if (!writeRules(what)) {
            return false;
        }
        UnwindTable t = inst.info().table();
        int count = t.entryCount();
        byte[] keys = new byte[Math.min(count, BATCH) * INDEX_BYTES];
        byte[] values = new byte[Math.min(count, BATCH) * ENTRY_BYTES];
        MemorySegment k = MemorySegment.ofArray(keys);
        MemorySegment v = MemorySegment.ofArray(values);
        for (int from = 0; from < count; from += BATCH) {
            int n = Math.min(BATCH, count - from);
            v.fill((byte) 0);
            for (int i = 0; i < n; i++) {
                k.setAtIndex(RecordLayout.INDEX_KEY, i, inst.firstEntry() + from + i);
                long at = (long) i * ENTRY_BYTES;
                RecordLayout.UNWIND_ENTRY_PC.set(v, at, t.pcOffset(from + i));
                RecordLayout.UNWIND_ENTRY_RULE.set(v, at, (short) t.ruleIndex(from + i));
            }
            int rc = entries.updateBatch(keys, values, n);
            if (rc != 0) {
                entryDrops++;
                failures.report("entries:" + rc, what + ": writing " + count + " unwind entries at "
                        + inst.firstEntry() + " failed (errno " + rc + "); the file uses frame pointers");
                return false;
            }
        }
        byte[] ft = new byte[FILE_TABLE_BYTES];
        MemorySegment fts = MemorySegment.ofArray(ft);
        RecordLayout.FILE_TABLE_BASE.set(fts, 0L, t.base());
        RecordLayout.FILE_TABLE_FIRST.set(fts, 0L, inst.firstEntry());
        RecordLayout.FILE_TABLE_COUNT.set(fts, 0L, count);
        int rc = files.update(RecordLayout.fileIdKey(fileId), ft);
        if (rc != 0) {
            fileDrops++;
            failures.report("unwind_files:" + rc, "map unwind_files refused " + what + " (errno " + rc
                    + (rc == Errno.E2BIG || rc == Errno.ENOSPC ? ": full, " + files.maxEntries() + " files" : "")
                    + "); such files use frame pointers");
            return false;
        }
        publishedFiles.add(fileId);
        return true;
    }

    /** The dictionary only grows: write the rules added since the last call. */
    private boolean writeRules(String what) {
        UnwindRule[] added = cache.dictionary().rulesFrom(rulesWritten);
        int n = added.length;
        if (n == 0) {
            return true;
        }
        byte[] keys = new byte[n * INDEX_BYTES];
        byte[] values = new byte[n * RULE_BYTES];
        MemorySegment k = MemorySegment.ofArray(keys);
        MemorySegment v = MemorySegment.ofArray(values);
        for (int i = 0; i < n; i++) {
            k.setAtIndex(RecordLayout.INDEX_KEY, i, rulesWritten + i);
            added[i].writeTo(v, (long) i * RULE_BYTES);
        }
        int rc = rules.updateBatch(keys, values, n);
        if (rc != 0) {
            ruleDrops++;
            failures.report("rules:" + rc, "writing unwind rules failed (errno " + rc + ") for " + what
                    + "; the file uses frame pointers");
            return false;
        }
        rulesWritten += n;
        return true;
    }

    private void release(FileIdentity identity) {
        if (cache.release(identity)) {
            unpublish(identity);
        }
        unpublishEvicted();
    }

    /** Retained tables the cache let go of (to make room or beyond its bound) leave the kernel too. */
    private void unpublishEvicted() {
        for (FileIdentity gone : cache.takeEvicted()) {
            unpublish(gone);
        }
    }

    private void unpublish(FileIdentity identity) {
        long fileId = identity.fileId();
        if (publishedFiles.remove(fileId)) {
            files.delete(RecordLayout.fileIdKey(fileId));
        }
    }

    // ---- encoding ----

    private void encodeKey(int pid, int prefixLength, long address) {
        LpmPrefixes.encodeKey(pid, prefixLength, address, key, 0);
    }

    private byte[] mappingValue(long fileId, long bias, int kind, int flags) {
        return MappingValue.encode(value, fileId, bias, kind, flags);
    }
}
