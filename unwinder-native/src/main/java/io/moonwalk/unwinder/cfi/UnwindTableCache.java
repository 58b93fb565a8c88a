package io.moonwalk.unwinder.cfi;

import io.moonwalk.elf.DebugFileLocator;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Unwind tables shared by every process that maps the same file. A table is built once per {@link FileIdentity},
 * reference-counted by {@link #acquire}/{@link #release}, and given a range of the kernel's flat
 * {@code unwind_entries} array from an {@link EntryRangeAllocator}; the last release frees both. The total is
 * bounded by the array's capacity: a table that does not fit is refused (counted) and the file keeps the
 * frame-pointer fallback. Files whose CFI is unusable are remembered in a bounded negative cache so that a
 * process re-syncing its maps does not re-parse them.
 *
 * <p>Released tables are retained (up to {@code retainedTables}, least recently released evicted first, and
 * evicted at once when their entry range is needed): on a host where short-lived processes keep mapping the same
 * files (compilers, JVMs, shell tools), a table freed by the last process's exit would otherwise be rebuilt by the
 * next, and building is the agent's largest CPU cost. Evicted tables are handed to the caller by
 * {@link #takeEvicted} so it deletes them from the kernel.
 *
 * <p>Thread-safe. Tables are built outside the lock, so a slow build does not block releases; two threads racing
 * to build the same file both build and the loser's table is discarded.
 */
public final class UnwindTableCache {
    /** Entries in the kernel's {@code unwind_entries} array (32 MiB of 8-byte entries). */
    public static final int KERNEL_ENTRY_CAPACITY = 4_194_304;
    /** Failed files remembered; beyond this the least recently seen failure is forgotten (and retried later). */
    public static final int DEFAULT_NEGATIVE_CAPACITY = 8192;
    /** Refused table sizes remembered so a refused file is not rebuilt while it still cannot fit. */
    private static final int REFUSED_MEMO_CAPACITY = 8192;
    /** Released tables kept for reuse by the kernel-sized cache. */
    public static final int DEFAULT_RETAINED_TABLES = 128;

    /** Opens the file to build from. The cache closes what it returns. */
    @FunctionalInterface
    public interface ElfOpener {
        ElfFile open() throws IOException;
    }

    /** The outcome of {@link #acquire}; only {@link Installed} holds a reference that must be released. */
    public sealed interface Acquisition permits Installed, Failed, Refused {
        FileIdentity identity();
    }

    /**
     * The file's table occupies {@code [firstEntry, firstEntry + table.entryCount())} of the kernel array.
     *
     * @param newlyBuilt true for the acquisition that built the table: the caller writes the entries (and any new
     *     rules of the shared dictionary) to the kernel before publishing the file
     */
    public record Installed(FileIdentity identity, long fileId, FileUnwindInfo info, int firstEntry,
            boolean newlyBuilt) implements Acquisition {
        public int entryCount() {
            return info.table().entryCount();
        }
    }

    /**
     * No table for this file. {@code permanent} failures (malformed ELF or CFI) are in the negative cache;
     * others (file vanished, permission denied) are retried on the next acquire.
     */
    public record Failed(FileIdentity identity, String reason, boolean permanent) implements Acquisition {
    }

    /** The table was built (or is known) to need more entries than the largest free range, or its id collides. */
    public record Refused(FileIdentity identity, int entriesNeeded, int largestFreeRange, String reason)
            implements Acquisition {
    }

    private static final class Live {
        final FileIdentity identity;
        final FileUnwindInfo info;
        final int first;
        int refs;

        Live(FileIdentity identity, FileUnwindInfo info, int first) {
            this.identity = identity;
            this.info = info;
            this.first = first;
        }
    }

    private final RuleDictionary dictionary;
    private final DebugFileLocator locator;
    private final EntryRangeAllocator allocator;
    private final Map<FileIdentity, Live> live = new HashMap<>();
    private final Map<Long, FileIdentity> liveIds = new HashMap<>();
    private final LinkedHashMap<FileIdentity, String> negative;
    private final LinkedHashMap<FileIdentity, Integer> refusedSizes;
    /** Tables with no reference left, kept for reuse; insertion order = release order (eldest evicted first). */
    private final LinkedHashMap<FileIdentity, Live> retained = new LinkedHashMap<>();
    private final int retainedCapacity;
    private final java.util.ArrayList<FileIdentity> evicted = new java.util.ArrayList<>();
    private long retainedHits;

    private long builds;
    private long buildFailures;
    private long hits;
    private long negativeHits;
    private long refusals;

    /** Sized for the kernel map: {@link #KERNEL_ENTRY_CAPACITY} entries, system debug root. */
    public UnwindTableCache(RuleDictionary dictionary) {
        this(dictionary, KERNEL_ENTRY_CAPACITY, DebugFileLocator.system(), DEFAULT_NEGATIVE_CAPACITY,
                DEFAULT_RETAINED_TABLES);
    }

    /** Without retention: the last release frees a table. */
    public UnwindTableCache(RuleDictionary dictionary, int entryCapacity, DebugFileLocator locator,
            int negativeCapacity) {
        this(dictionary, entryCapacity, locator, negativeCapacity, 0);
    }

    /** @param retainedTables released tables kept for reuse (0: the last release frees a table) */
    public UnwindTableCache(RuleDictionary dictionary, int entryCapacity, DebugFileLocator locator,
            int negativeCapacity, int retainedTables) {
        if (retainedTables < 0) {
            throw new IllegalArgumentException("retained tables must be >= 0, got " + retainedTables);
        }
        this.retainedCapacity = retainedTables;
        if (negativeCapacity < 1) {
            throw new IllegalArgumentException("negative cache capacity must be >= 1, got " + negativeCapacity);
        }
        this.dictionary = dictionary;
        this.locator = locator;
        this.allocator = new EntryRangeAllocator(entryCapacity);
        this.negative = boundedLru(negativeCapacity);
        this.refusedSizes = boundedLru(REFUSED_MEMO_CAPACITY);
    }

    private static <V> LinkedHashMap<FileIdentity, V> boundedLru(int capacity) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<FileIdentity, V> eldest) {
                return size() > capacity;
            }
        };
    }

    /**
     * Takes a reference to the file's table, building and placing it on first use.
     *
     * @param pathForDebugLookup the file's path for .gnu_debuglink lookup (null: build-id lookup only)
     * @param opener called only when the table must be built; what it returns is closed here
     */
    public Acquisition acquire(FileIdentity identity, Path pathForDebugLookup, ElfOpener opener) {
        synchronized (this) {
            Acquisition known = known(identity);
            if (known != null) {
                return known;
            }
        }
        FileUnwindInfo info;
        try (ElfFile elf = opener.open()) {
            info = FileUnwindInfo.build(elf, pathForDebugLookup, dictionary, locator, true);
        } catch (ElfFormatException | CfiFormatException e) {
            return fail(identity, e.getMessage(), true);
        } catch (IOException e) {
            return fail(identity, identity + ": cannot read: " + e, false);
        } catch (RuntimeException e) {
            // A parser bug on some input must cost this one file its table, not the agent its sync loop.
            return fail(identity, identity + ": internal error while building the unwind table: " + e, true);
        }
        synchronized (this) {
            builds++;
            Acquisition known = known(identity);
            if (known != null) {
                return known; // another thread built it meanwhile; ours is dropped
            }
            int count = info.table().entryCount();
            FileIdentity clash = liveIds.get(identity.fileId());
            if (clash != null) {
                refusals++;
                return new Refused(identity, count, allocator.largestFreeBlock(), "file id 0x"
                        + Long.toHexString(identity.fileId()) + " of " + identity + " collides with live " + clash);
            }
            int first = allocator.allocate(count);
            while (first == EntryRangeAllocator.NO_SPACE && !retained.isEmpty()) {
                evictEldest();
                first = allocator.allocate(count);
            }
            if (first == EntryRangeAllocator.NO_SPACE) {
                refusals++;
                refusedSizes.put(identity, count);
                return refused(identity, count);
            }
            refusedSizes.remove(identity);
            Live l = new Live(identity, info, first);
            l.refs = 1;
            live.put(identity, l);
            liveIds.put(identity.fileId(), identity);
            return new Installed(identity, identity.fileId(), info, first, true);
        }
    }

    /** A hit, a negative hit, a refusal known without building, or null when the table must be built. */
    private Acquisition known(FileIdentity identity) {
        Live l = live.get(identity);
        if (l != null) {
            if (l.refs++ == 0) {
                retained.remove(identity);
                retainedHits++;
            }
            hits++;
            return new Installed(identity, identity.fileId(), l.info, l.first, false);
        }
        String reason = negative.get(identity);
        if (reason != null) {
            negativeHits++;
            return new Failed(identity, reason, true);
        }
        Integer needed = refusedSizes.get(identity);
        if (needed != null && needed > allocator.largestFreeBlock() + retainedEntries()) {
            refusals++;
            return refused(identity, needed);
        }
        return null;
    }

    private Refused refused(FileIdentity identity, int needed) {
        int largest = allocator.largestFreeBlock();
        return new Refused(identity, needed, largest, identity + ": unwind table needs " + needed
                + " entries but the largest free range of the kernel array is " + largest + " (" + allocator.freeEntries()
                + " of " + allocator.capacity() + " free); the file keeps the frame-pointer fallback");
    }

    private synchronized Failed fail(FileIdentity identity, String reason, boolean permanent) {
        buildFailures++;
        if (permanent) {
            negative.put(identity, reason);
        }
        return new Failed(identity, reason, permanent);
    }

    /**
     * Drops one reference taken by an {@link Installed} acquisition.
     *
     * @return true when that was the last reference and the table and its entry range are freed (no retention):
     *     the caller deletes the file from the kernel's {@code unwind_files} map. With retention the table is kept
     *     for reuse and false returned; tables evicted later come out of {@link #takeEvicted}
     * @throws IllegalStateException the identity holds no reference (release without a matching acquire)
     */
    public synchronized boolean release(FileIdentity identity) {
        Live l = live.get(identity);
        if (l == null) {
            throw new IllegalStateException("release of " + identity + " which holds no table reference; release "
                    + "only after an Installed acquisition");
        }
        if (--l.refs > 0) {
            return false;
        }
        if (retainedCapacity > 0) {
            retained.put(identity, l);
            while (retained.size() > retainedCapacity) {
                evictEldest();
            }
            return false;
        }
        live.remove(identity);
        liveIds.remove(identity.fileId());
        allocator.free(l.first);
        return true;
    }

    private void evictEldest() {
        java.util.Iterator<Live> it = retained.values().iterator();
        Live l = it.next();
        it.remove();
        live.remove(l.identity);
        liveIds.remove(l.identity.fileId());
        allocator.free(l.first);
        evicted.add(l.identity);
    }

    private long retainedEntries() {
        long n = 0;
        for (Live l : retained.values()) {
            n += l.info.table().entryCount();
        }
        return n;
    }

    /**
     * Retained tables freed since the last call (to make room, or beyond the retention bound): the caller deletes
     * them from the kernel's {@code unwind_files} map.
     */
    public synchronized java.util.List<FileIdentity> takeEvicted() {
        if (evicted.isEmpty()) {
            return java.util.List.of();
        }
        java.util.List<FileIdentity> out = java.util.List.copyOf(evicted);
        evicted.clear();
        return out;
    }

    /** Tables kept with no reference, for reuse. */
    public synchronized int retainedTables() {
        return retained.size();
    }

    /** Acquisitions that reused a retained table instead of building it again. */
    public synchronized long retainedHits() {
        return retainedHits;
    }

    /** The installed table of a file, without taking a reference. */
    public synchronized Optional<Installed> installed(FileIdentity identity) {
        Live l = live.get(identity);
        return l == null ? Optional.empty() : Optional.of(new Installed(identity, identity.fileId(), l.info, l.first,
                false));
    }

    /** References currently held on a file's table (0 when not installed). */
    public synchronized int references(FileIdentity identity) {
        Live l = live.get(identity);
        return l == null ? 0 : l.refs;
    }

    public RuleDictionary dictionary() {
        return dictionary;
    }

    /** Tables built (successful builds, including ones later refused or discarded in a race). */
    public synchronized long builds() {
        return builds;
    }

    /** Builds that failed (permanent and transient). */
    public synchronized long buildFailures() {
        return buildFailures;
    }

    /** Acquisitions served by an installed table. */
    public synchronized long hits() {
        return hits;
    }

    /** Acquisitions answered from the negative cache. */
    public synchronized long negativeHits() {
        return negativeHits;
    }

    /** Tables that did not fit (or whose file id collided). */
    public synchronized long refusals() {
        return refusals;
    }

    /** Kernel array entries held by installed tables. */
    public synchronized long liveEntries() {
        return allocator.usedEntries();
    }

    /** Tables with at least one reference (retained ones not counted). */
    public synchronized int liveTables() {
        return live.size() - retained.size();
    }

    public synchronized int negativeEntries() {
        return negative.size();
    }

    public synchronized int largestFreeRange() {
        return allocator.largestFreeBlock();
    }

    /** See {@link EntryRangeAllocator#fragmentation()}. */
    public synchronized double fragmentation() {
        return allocator.fragmentation();
    }

    public int entryCapacity() {
        return allocator.capacity();
    }
}
