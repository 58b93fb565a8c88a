package io.moonwalk.symbolize.symbols;

import io.moonwalk.elf.DebugFileLocator;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.HtlHash;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves native addresses of live processes to symbol + module, with a bounded LRU cache of
 * per-file symbol tables shared by all processes.
 *
 * <p>File identity: each mapping's file is opened through {@code /proc/PID/map_files/<start>-<end>}
 * (right even for deleted files and files inside containers), then {@code /proc/PID/root/<path>},
 * then the plain path; the two path fallbacks are used only when their inode matches the mapping's,
 * so a file replaced on disk never lends its names to the old mapping. Cache keys are the GNU build
 * ID when the file has one (the same library in many containers is parsed once) and always
 * (dev, inode, size, mtime). Files that fail to parse are cached as failures, so a corrupt file costs
 * one parse, not one per sample.
 *
 * <p>{@code [vdso]}: the kernel maps the same vDSO image into every 64-bit process, so the target's
 * vDSO is symbolized with the agent's own copy, read once from {@code /proc/self/mem}. A target vDSO
 * of a different size (e.g. a 32-bit process) is reported without a symbol.
 *
 * <p>Thread-safe. Each {@link ProcessSymbols} view is a snapshot of the process's maps; the caller
 * drops and re-creates it when the process maps new code (e.g. on an unknown-PC event).
 */
public final class NativeSymbolizer {
    public static final int DEFAULT_MAX_FILES = 1024;

    private record FileKey(long dev, long inode, long size, long mtimeNanos) {
    }

    private record BuildIdKey(String buildId) {
    }

    private final int maxEntries;
    /** Where {@code PID/maps} and {@code PID/map_files} are read: /proc, or a core file's stand-in (replay). */
    private final Path procRoot;
    /** Where stripped files' debug files are found: /usr/lib/debug, or a replay's module store. */
    private final DebugFileLocator debugFiles;
    private final Map<Object, FileSymbols> cache;
    private long hits;
    private long misses;
    private long loadFailures;
    private String lastLoadFailure;
    private boolean vdsoLoaded;
    private FileSymbols vdso = FileSymbols.FAILED;
    private long vdsoSize = -1;

    public NativeSymbolizer() {
        this(DEFAULT_MAX_FILES);
    }

    /** @param maxFiles the number of files whose tables are kept (a file may hold two cache keys) */
    public NativeSymbolizer(int maxFiles) {
        this(maxFiles, Path.of("/proc"));
    }

    /** @param procRoot where {@code PID/maps} and {@code PID/map_files} are read (a core's stand-in for /proc) */
    public NativeSymbolizer(int maxFiles, Path procRoot) {
        this(maxFiles, procRoot, DebugFileLocator.system());
    }

    /** @param debugFiles where stripped files' debug files are looked for (a replay: its module store's) */
    public NativeSymbolizer(int maxFiles, Path procRoot, DebugFileLocator debugFiles) {
        this.procRoot = procRoot;
        this.debugFiles = debugFiles;
        if (maxFiles < 1) {
            throw new IllegalArgumentException("maxFiles must be at least 1, got " + maxFiles);
        }
        this.maxEntries = 2 * maxFiles;
        this.cache = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, FileSymbols> eldest) {
                return size() > maxEntries;
            }
        };
    }

    /** Snapshots {@code /proc/PID/maps}; files are loaded lazily on first use. */
    public ProcessSymbols forProcess(int pid) throws IOException {
        return new ProcessSymbols(this, pid, ProcessMaps.read(procRoot.resolve(Integer.toString(pid)).resolve("maps")));
    }

    /** One-shot resolution; reads the maps on every call, so prefer {@link #forProcess(int)} for batches. */
    public Resolved symbolize(int pid, long address) throws IOException {
        return forProcess(pid).resolve(address, false);
    }

    /** The symbols of a mapping's file; {@link FileSymbols#FAILED} when it cannot be read. */
    FileSymbols loadFile(int pid, Mapping m) {
        String proc = "/proc/" + pid;
        List<Path> candidates = new ArrayList<>(3);
        candidates.add(procRoot.resolve(Integer.toString(pid)).resolve("map_files").resolve(m.mapFilesName()));
        if (!m.isDeleted() && procRoot.equals(Path.of("/proc"))) {
            candidates.add(Path.of(proc + "/root" + m.filePath()));
            candidates.add(Path.of(m.filePath()));
        }
        String why = "no candidate path could be read";
        for (Path p : candidates) {
            Map<String, Object> attrs;
            try {
                attrs = Files.readAttributes(p, "unix:dev,ino,size,lastModifiedTime,isRegularFile");
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                why = p + ": " + e;
                continue;
            }
            long ino = (Long) attrs.get("ino");
            if (!(Boolean) attrs.get("isRegularFile") || (m.inode() != 0 && ino != m.inode())) {
                why = p + ": not the mapped file (not regular, or inode " + ino + " != " + m.inode() + ")";
                continue;
            }
            Instant mtime = ((FileTime) attrs.get("lastModifiedTime")).toInstant();
            FileKey key = new FileKey((Long) attrs.get("dev"), ino, (Long) attrs.get("size"),
                    mtime.getEpochSecond() * 1_000_000_000L + mtime.getNano());
            synchronized (this) {
                FileSymbols cached = cache.get(key);
                if (cached != null) {
                    hits++;
                    return cached;
                }
                misses++;
            }
            return parse(p, key);
        }
        synchronized (this) {
            loadFailures++;
            lastLoadFailure = "pid " + pid + " " + m.path() + ": " + why;
        }
        return FileSymbols.FAILED;
    }

    private FileSymbols parse(Path p, FileKey key) {
        try (ElfFile elf = ElfFile.open(p)) {
            String buildId = elf.buildId().orElse(null);
            if (buildId != null) {
                synchronized (this) {
                    FileSymbols same = cache.get(new BuildIdKey(buildId));
                    if (same != null) {
                        cache.put(key, same);
                        return same;
                    }
                }
            }
            FileSymbols fs = FileSymbols.load(elf, buildId, HtlHash.of(p), debugFiles);
            synchronized (this) {
                cache.put(key, fs);
                if (buildId != null) {
                    cache.put(new BuildIdKey(buildId), fs);
                }
            }
            return fs;
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                loadFailures++;
                lastLoadFailure = p + ": " + e.getMessage();
                cache.put(key, FileSymbols.FAILED);
            }
            return FileSymbols.FAILED;
        }
    }

    synchronized FileSymbols vdso(long targetSize) {
        if (!vdsoLoaded) {
            vdsoLoaded = true;
            try {
                loadOwnVdso();
            } catch (IOException | RuntimeException e) {
                loadFailures++;
                lastLoadFailure = "own [vdso]: " + e.getMessage();
            }
        }
        return targetSize == vdsoSize ? vdso : FileSymbols.FAILED;
    }

    private void loadOwnVdso() throws IOException {
        Mapping own = null;
        for (Mapping m : ProcessMaps.read(Path.of("/proc/self/maps")).mappings()) {
            if (m.isVdso()) {
                own = m;
            }
        }
        if (own == null) {
            throw new IOException("the agent has no [vdso] mapping");
        }
        if (own.size() > 1 << 20) {
            throw new IOException("[vdso] of " + own.size() + " bytes is implausibly large");
        }
        ByteBuffer image = ByteBuffer.allocate((int) own.size());
        try (FileChannel mem = FileChannel.open(Path.of("/proc/self/mem"), StandardOpenOption.READ)) {
            while (image.hasRemaining()) {
                if (mem.read(image, own.start() + image.position()) <= 0) {
                    throw new IOException("short read of [vdso] from /proc/self/mem");
                }
            }
        }
        image.flip();
        try (ElfFile elf = ElfFile.of(image, "[vdso]")) {
            vdso = FileSymbols.load(elf, elf.buildId().orElse(null), null);
            vdsoSize = own.size();
        }
    }

    /** Lookups answered from the cache (including remembered failures and build-ID matches). */
    public synchronized long cacheHits() {
        return hits;
    }

    /** Lookups that had to open the file. */
    public synchronized long cacheMisses() {
        return misses;
    }

    /** Files that could not be opened or parsed. */
    public synchronized long loadFailures() {
        return loadFailures;
    }

    /** Why the most recent load failed, for logs; null if none failed. */
    public synchronized String lastLoadFailure() {
        return lastLoadFailure;
    }

    /** Cache entries in use (each file holds one or two: its inode key and its build-ID key). */
    public synchronized int cacheEntries() {
        return cache.size();
    }

    public int maxCacheEntries() {
        return maxEntries;
    }
}
