package io.moonwalk.luajit.sync;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.bpf.maps.BpfMap;
import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.unwinder.sync.FailureLog;
import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.unwinder.sync.MappingExtension;
import io.moonwalk.luajit.detect.Detection;
import io.moonwalk.luajit.detect.LuajitBinary;
import io.moonwalk.luajit.detect.LuajitDetector;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.process.Mapping;
import io.moonwalk.unwinder.cfi.FileIdentity;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds LuaJIT in the executable files that processes map and tells the kernel walker about it: one
 * {@code luajit_files} entry per LuaJIT binary (keyed by the file id of its unwind table, refcounted over the
 * mappings that use it) and the {@link RecordLayout#MAPPING_LUAJIT} flag on those mappings. Detection runs
 * once per file identity (results cached, bounded); a binary that looks like LuaJIT but cannot be established
 * with certainty is refused: logged once, counted, and its processes get native frames only.
 *
 * <p>Also remembers which LuaJIT binary each process uses, for naming its Lua frames. Thread-safe.
 */
public final class LuajitFiles implements MappingExtension {
    /** Detection results kept (most files are not LuaJIT; the answer is remembered so libc is examined once). */
    public static final int MAX_DETECTIONS = 4096;
    private static final System.Logger LOG = System.getLogger(LuajitFiles.class.getName());

    private record Published(LuajitBinary binary, int refs) {
    }

    private final BpfMap files;
    private final LuajitDetector detector;
    private final FailureLog failures;
    private final Map<FileIdentity, Detection> detections = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FileIdentity, Detection> eldest) {
            return size() > MAX_DETECTIONS;
        }
    };
    private final Map<FileIdentity, Published> published = new HashMap<>();
    private final Map<Integer, LuajitBinary> byPid = new ConcurrentHashMap<>();
    private final Map<Integer, Long> fileIdByPid = new ConcurrentHashMap<>();
    // written under this object's lock (held while a file is examined), read without it: figures never wait
    private volatile long examined;
    private volatile long refused;
    private volatile long found;
    private volatile long mapDrops;
    private volatile int publishedCount;

    public LuajitFiles(BpfMaps maps, FailureLog failures) {
        this(maps.map(BpfMaps.LUAJIT_FILES), new LuajitDetector(), failures);
    }

    LuajitFiles(BpfMap files, LuajitDetector detector, FailureLog failures) {
        this.files = files;
        this.detector = detector;
        this.failures = failures;
    }

    @Override
    public synchronized int install(int pid, Mapping mapping, FileIdentity identity, ElfFile elf) {
        Detection d = detections.get(identity);
        if (d == null) {
            examined = examined + 1;
            d = detector.detect(elf, Path.of(mapping.filePath()));
            detections.put(identity, d);
            switch (d) {
                case Detection.Found f -> {
                    found = found + 1;
                    LOG.log(System.Logger.Level.INFO, f.binary().summary());
                }
                case Detection.Refused r -> {
                    refused = refused + 1;
                    failures.report("luajit-refused:" + identity, r.reason()
                            + "; Lua frames of processes using it are not walked");
                }
                case Detection.NotLuajit n -> {
                }
            }
        }
        if (!(d instanceof Detection.Found found)) {
            return 0;
        }
        Published p = published.get(identity);
        if (p == null) {
            int rc = files.update(key(identity), LuajitFileValue.encode(found.binary()));
            if (rc != 0) {
                mapDrops = mapDrops + 1;
                failures.report("luajit_files:" + rc, "map luajit_files refused " + mapping.filePath() + " (errno "
                        + rc + ", " + files.maxEntries() + " entries); its Lua frames are not walked");
                return 0;
            }
            p = new Published(found.binary(), 0);
        }
        published.put(identity, new Published(p.binary(), p.refs() + 1));
        publishedCount = published.size();
        byPid.put(pid, found.binary());
        fileIdByPid.put(pid, identity.fileId());
        return RecordLayout.MAPPING_LUAJIT;
    }

    @Override
    public synchronized void uninstall(int pid, FileIdentity identity, int flags) {
        Published p = published.get(identity);
        if (p == null) {
            return;
        }
        if (p.refs() > 1) {
            published.put(identity, new Published(p.binary(), p.refs() - 1));
            return;
        }
        published.remove(identity);
        publishedCount = published.size();
        files.delete(key(identity));
    }

    @Override
    public void processRemoved(int pid) {
        // the binary stays known for naming the process's last samples (SampleCollector copies it at its
        // first sample); forget it only here, with the process
        byPid.remove(pid);
        fileIdByPid.remove(pid);
    }

    @Override
    public long[] marker(int pid) {
        long id = fileIdOf(pid);
        return new long[] {id, id == 0 ? 0 : RecordLayout.MAPPING_LUAJIT};
    }

    @Override
    public boolean ownsAnonymous(int pid) {
        return isLuajit(pid);
    }

    /** Whether {@code pid} maps a LuaJIT binary the walker knows (its anonymous executable memory is then JIT-routed). */
    public boolean isLuajit(int pid) {
        return fileIdByPid.containsKey(pid);
    }

    /** The {@code luajit_files} key of the LuaJIT binary {@code pid} maps, or 0. */
    public long fileIdOf(int pid) {
        Long id = fileIdByPid.get(pid);
        return id == null ? 0 : id;
    }

    /** The LuaJIT binary {@code pid} maps, if any (the last one installed when a process maps several). */
    public Optional<LuajitBinary> binaryOf(int pid) {
        return Optional.ofNullable(byPid.get(pid));
    }

    public long filesExamined() {
        return examined;
    }

    /** Distinct files (by identity) recognised as LuaJIT, since start. */
    public long filesDetected() {
        return found;
    }

    public long filesRefused() {
        return refused;
    }

    public MapFill fill() {
        return new MapFill(files.name(), publishedCount, files.maxEntries(), mapDrops);
    }

    private static byte[] key(FileIdentity identity) {
        return RecordLayout.fileIdKey(identity.fileId());
    }
}
