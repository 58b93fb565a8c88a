package io.moonwalk.agent.store;

import io.moonwalk.agent.output.AtomicFileWriter;
import io.moonwalk.agent.output.FoldedWriter;
import io.moonwalk.agent.output.PprofWriter;
import io.moonwalk.frame.Frame;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rolling per-window profiles on local disk: each window is written as
 * {@code window-<start ms>-<duration ms>.pb.gz} (pprof) and {@code .folded} next to it, atomically.
 * After every write the oldest windows are deleted until the files total at most
 * {@code maxBytes} and none ended longer than {@code maxAge} ago, so the directory never grows
 * past its bounds (a single window larger than the whole bound is not kept either).
 *
 * <p>A store holds one {@link ProfileKind}: the CPU store's files are {@code window-*} with the index
 * {@code index-v1.tsv}; the off-CPU store's ({@code --off-cpu}) and the mmap event store's ({@code --mmap-events})
 * sit in the same directory as {@code offcpu-<start ms>-<duration ms>.pb.gz}/{@code .folded} and
 * {@code mmap-...}, each with its own index ({@code index-offcpu-v1.tsv}, {@code index-mmap-v1.tsv}) whose header
 * names the sample type. Only files named like a window of this store are ever read or deleted; anything else in
 * the directory is left alone. Thread-safe: the window thread writes while web requests read.
 */
public final class ProfileStore {
    private static final System.Logger LOG = System.getLogger(ProfileStore.class.getName());
    static final Pattern NAME = namePattern("window-");
    public static final String PPROF = ".pb.gz";
    public static final String FOLDED = ".folded";

    private final Path dir;
    private final long maxBytes;
    private final Duration maxAge;
    private final Clock clock;
    private final ProfileKind kind;
    private final SampleType type;
    private final String prefix;
    private final Pattern name;
    private final NavigableMap<Long, WindowSummary> windows = new TreeMap<>();
    private final StoreIndex index;
    private final Map<String, String> vmNames = new HashMap<>();
    private long totalBytes;
    private long longestMillis;
    private long evictedWindows;
    private long writeFailures;
    private String lastError;

    /**
     * Opens (creating it if needed) {@code dir} and indexes the windows already there, applying the
     * bounds at once.
     */
    public ProfileStore(Path dir, long maxBytes, Duration maxAge, Clock clock) throws IOException {
        this(dir, maxBytes, maxAge, clock, ProfileKind.CPU);
    }

    /** As {@link #ProfileStore(Path, long, Duration, Clock)} for windows of {@code kind} (their own files and index). */
    public ProfileStore(Path dir, long maxBytes, Duration maxAge, Clock clock, ProfileKind kind) throws IOException {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.type = kind.sampleType();
        this.prefix = kind.filePrefix();
        this.name = namePattern(prefix);
        this.dir = Objects.requireNonNull(dir, "dir");
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("store size bound must be positive, got " + maxBytes);
        }
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("store age bound must be positive, got " + maxAge);
        }
        this.maxBytes = maxBytes;
        this.maxAge = maxAge;
        this.clock = clock;
        this.index = new StoreIndex(dir, kind);
        Files.createDirectories(dir);
        if (!Files.isWritable(dir)) {
            throw new IOException("store directory " + dir + " is not writable; pass --store-dir or fix its owner");
        }
        index();
    }

    private void index() throws IOException {
        Map<Long, Long> durations = new HashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path p : ds) {
                Matcher m = name.matcher(p.getFileName().toString());
                if (m.matches() && m.group(3).equals("pb.gz")) {
                    durations.put(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
                }
            }
        }
        Map<Long, WindowSummary> indexed = new HashMap<>();
        long[] lines = new long[1];
        index.read(s -> {
            lines[0]++;
            indexed.put(s.startMillis(), s);
        });
        boolean stale = index.skippedLines() > 0 || lines[0] != indexed.size();
        int readBack = 0;
        for (var e : durations.entrySet()) {
            WindowSummary known = indexed.remove(e.getKey());
            if (known != null && known.durationMillis() == e.getValue()) {
                put(known);
                continue;
            }
            stale = true;
            Path pprof = file(e.getKey(), e.getValue(), PPROF);
            try {
                long bytes = Files.size(pprof) + sizeOrZero(file(e.getKey(), e.getValue(), FOLDED));
                // the name is the truth for the window's place in time
                put(WindowSummary.of(PprofReader.read(pprof), bytes).at(e.getKey(), e.getValue(), bytes));
                readBack++;
            } catch (IOException | RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "ignoring unreadable stored window " + pprof + ": " + ex.getMessage());
            }
        }
        stale |= !indexed.isEmpty(); // lines of windows deleted behind our back
        if (readBack > 0) {
            LOG.log(System.Logger.Level.INFO, readBack + " stored windows were not in " + index.file()
                    + " and were read to index them");
        }
        synchronized (this) {
            if (stale) {
                index.rewrite(windows.values());
            }
            enforceBounds();
        }
    }

    private void put(WindowSummary s) {
        windows.put(s.startMillis(), s);
        longestMillis = Math.max(longestMillis, s.durationMillis());
        totalBytes += charged(s);
    }

    /** A window's files plus its share of the index file. */
    private static long charged(WindowSummary s) {
        return s.bytes() + StoreIndex.charge(s);
    }

    /**
     * Writes one window. Its files are encoded in memory first so the oldest windows can be deleted
     * to make room before anything is written: the directory never exceeds the size bound, not even
     * for a moment. A window larger than the whole bound is not kept (counted as evicted).
     */
    public WindowSummary write(Profile p) throws IOException {
        return write(p, List.of());
    }

    /** As {@link #write(Profile)}, keeping {@code vms} (VM health at the window's end) in the window's summary. */
    public WindowSummary write(Profile p, List<WindowSummary.VmHealth> vms) throws IOException {
        return write(p, vms, List.of());
    }

    /**
     * As {@link #write(Profile, List)}, also keeping the window's busiest trace-abort sites ({@code aborts}, most
     * first) in its summary.
     */
    public synchronized WindowSummary write(Profile p, List<WindowSummary.VmHealth> vms,
            List<WindowSummary.AbortSite> aborts) throws IOException {
        if (!p.sampleType().equals(type)) {
            throw new IllegalArgumentException("a " + p.sampleType().type() + " window does not belong in the "
                    + type.type() + " store");
        }
        long start = p.startEpochNanos() / 1_000_000;
        long duration = Math.max(1, p.durationNanos() / 1_000_000);
        while (windows.containsKey(start)) {
            start++; // two windows in one millisecond (clock step): keep both
        }
        Path pprof = file(start, duration, PPROF);
        Path folded = file(start, duration, FOLDED);
        ByteArrayOutputStream pprofBytes = new ByteArrayOutputStream(1 << 16);
        ByteArrayOutputStream foldedBytes = new ByteArrayOutputStream(1 << 16);
        try {
            new PprofWriter().write(p, pprofBytes);
            new FoldedWriter().write(p, foldedBytes);
        } catch (IOException | RuntimeException e) {
            writeFailures++;
            lastError = "encoding a window failed: " + e.getMessage();
            throw e instanceof IOException io ? io : new IOException(e);
        }
        long bytes = pprofBytes.size() + foldedBytes.size();
        WindowSummary s = WindowSummary.of(p, bytes).at(start, duration, bytes).withVms(interned(vms))
                .withAborts(aborts);
        long charge = charged(s);
        if (charge > maxBytes) {
            evictedWindows++;
            LOG.log(System.Logger.Level.WARNING, "a " + bytes + "-byte window does not fit in the store bound of "
                    + maxBytes + " bytes; raise --store-max-size");
            return s;
        }
        makeRoom(charge);
        try {
            AtomicFileWriter.write(pprof, out -> pprofBytes.writeTo(out));
            AtomicFileWriter.write(folded, out -> foldedBytes.writeTo(out));
        } catch (IOException | RuntimeException e) {
            writeFailures++;
            lastError = e.getMessage();
            Files.deleteIfExists(pprof);
            Files.deleteIfExists(folded);
            throw e instanceof IOException io ? io : new IOException(e);
        }
        lastError = null;
        put(s);
        try {
            index.append(s);
        } catch (IOException e) {
            // the window is stored; a restart reads its file to index it
            LOG.log(System.Logger.Level.WARNING, "cannot append to the store index " + index.file() + ": " + e.getMessage());
        }
        enforceBounds();
        return s;
    }

    /**
     * The VM names shared across windows: a day of windows names the same few VMs 17,280 times. The
     * table is bounded (cleared when full; only sharing is lost).
     */
    private List<WindowSummary.VmHealth> interned(List<WindowSummary.VmHealth> vms) {
        List<WindowSummary.VmHealth> out = new ArrayList<>(vms.size());
        for (WindowSummary.VmHealth v : vms) {
            if (vmNames.size() >= 4096) {
                vmNames.clear();
            }
            out.add(new WindowSummary.VmHealth(vmNames.computeIfAbsent(v.vm(), k -> k), v.traces(), v.mcodeBytes(),
                    v.maxMcodeBytes(), v.flushes()));
        }
        return out;
    }

    private void makeRoom(long bytes) {
        while (!windows.isEmpty() && totalBytes + bytes > maxBytes) {
            evictOldest();
        }
    }

    private void enforceBounds() {
        long oldestEnd = clock.millis() - maxAge.toMillis();
        while (!windows.isEmpty()) {
            WindowSummary first = windows.firstEntry().getValue();
            if (totalBytes <= maxBytes && first.endMillis() >= oldestEnd) {
                break;
            }
            evictOldest();
        }
    }

    private void evictOldest() {
        WindowSummary first = windows.pollFirstEntry().getValue();
        totalBytes -= charged(first);
        evictedWindows++;
        try {
            Files.deleteIfExists(file(first.startMillis(), first.durationMillis(), PPROF));
            Files.deleteIfExists(file(first.startMillis(), first.durationMillis(), FOLDED));
            index.removed(windows.values());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete stored window or rewrite the index: " + e.getMessage());
        }
    }

    /** Applies the age bound without a write (called on a timer so an idle host still forgets). */
    public synchronized void expire() {
        enforceBounds();
    }

    /** Windows overlapping [fromMillis, toMillis), oldest first. */
    public synchronized List<WindowSummary> windows(long fromMillis, long toMillis) {
        List<WindowSummary> out = new ArrayList<>();
        // a window overlapping the range starts at most the longest window's length before it: the scan
        // starts there, so a short range of a 24 h store looks at a handful of windows
        long scanFrom = fromMillis - Math.min(fromMillis, longestMillis);
        for (WindowSummary w : windows.tailMap(scanFrom, true).values()) {
            if (w.startMillis() >= toMillis) {
                break;
            }
            if (w.endMillis() > fromMillis) {
                out.add(w);
            }
        }
        return out;
    }

    public synchronized List<WindowSummary> windows() {
        return new ArrayList<>(windows.values());
    }

    /**
     * Bounds of one merge request: what a web-view request may cost, whatever range it names.
     *
     * @param maxWindows stored windows one merge may read
     * @param maxBytes stored (compressed) bytes one merge may read
     * @param maxEntries distinct (process, thread, stack, labels) entries the merged profile may hold
     * @param maxNanos wall time one merge may take
     */
    public record MergeLimits(int maxWindows, long maxBytes, int maxEntries, long maxNanos) {
        /** Sized for a 128 MiB heap: windows are read one at a time, only the merged table grows. */
        public static final MergeLimits WEB = new MergeLimits(4320, 128L << 20, 200_000, 15_000_000_000L);
        public static final MergeLimits NONE = new MergeLimits(Integer.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE,
                Long.MAX_VALUE);
    }

    /** A merge that would exceed its {@link MergeLimits}; the message says which and what to do. */
    public static final class MergeTooLargeException extends StoreException {
        MergeTooLargeException(String message) {
            super(message);
        }
    }

    /**
     * The windows overlapping [fromMillis, toMillis) merged into one profile, keeping only the
     * entries {@code keep} accepts.
     */
    public Profile merged(long fromMillis, long toMillis, Predicate<Profile.Entry> keep) throws IOException {
        return merged(fromMillis, toMillis, keep, MergeLimits.NONE);
    }

    /**
     * As {@link #merged(long, long, Predicate)}, refusing up front (from the index, before reading
     * anything) a range whose windows or bytes exceed {@code limits}, and stopping a merge whose
     * distinct entries or time exceed them.
     *
     * @throws MergeTooLargeException the request is over a limit
     */
    public Profile merged(long fromMillis, long toMillis, Predicate<Profile.Entry> keep, MergeLimits limits)
            throws IOException {
        List<WindowSummary> picked = windows(fromMillis, toMillis);
        long bytes = 0;
        for (WindowSummary w : picked) {
            bytes += w.bytes();
        }
        if (picked.size() > limits.maxWindows() || bytes > limits.maxBytes()) {
            throw new MergeTooLargeException("the range holds " + picked.size() + " windows (" + (bytes >> 20)
                    + " MiB); one view merges at most " + limits.maxWindows() + " windows and "
                    + (limits.maxBytes() >> 20) + " MiB: choose a shorter range");
        }
        long deadline = limits.maxNanos() == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + limits.maxNanos();
        Map<EntryKey, long[]> counts = new HashMap<>();
        long start = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        long period = 0;
        for (WindowSummary w : picked) {
            if (System.nanoTime() - deadline > 0) {
                throw new MergeTooLargeException("merging took longer than " + limits.maxNanos() / 1_000_000_000
                        + " s; choose a shorter range or one process");
            }
            Profile p;
            try {
                p = PprofReader.read(file(w.startMillis(), w.durationMillis(), PPROF));
            } catch (NoSuchFileException e) {
                continue; // rotated away since the listing
            }
            start = Math.min(start, w.startMillis());
            end = Math.max(end, w.endMillis());
            period = p.periodNanos();
            for (Profile.Entry e : p.entries()) {
                if (!keep.test(e)) {
                    continue;
                }
                EntryKey k = new EntryKey(e.process(), e.threadName(), e.frames(), e.labels());
                long[] c = counts.get(k);
                if (c == null) {
                    if (counts.size() >= limits.maxEntries()) {
                        throw new MergeTooLargeException("the range has more than " + limits.maxEntries()
                                + " distinct stacks; choose a shorter range or one process");
                    }
                    counts.put(k, c = new long[1]);
                }
                c[0] += e.count();
            }
        }
        List<Profile.Entry> entries = new ArrayList<>(counts.size());
        for (var c : counts.entrySet()) {
            EntryKey k = c.getKey();
            entries.add(new Profile.Entry(k.process(), k.thread(), k.frames(), k.labels(), c.getValue()[0]));
        }
        if (start == Long.MAX_VALUE) {
            start = fromMillis;
            end = fromMillis;
        }
        return new Profile(start * 1_000_000, (end - start) * 1_000_000,
                type.periodic() ? (period == 0 ? 1 : period) : 0, entries, type);
    }

    private static Pattern namePattern(String prefix) {
        return Pattern.compile(Pattern.quote(prefix) + "(\\d{13})-(\\d{1,9})\\.(pb\\.gz|folded)");
    }

    /** What this store's windows measure. */
    public SampleType sampleType() {
        return type;
    }

    /** The kind of profile this store keeps. */
    public ProfileKind kind() {
        return kind;
    }

    private record EntryKey(ProcessIdentity process, String thread, List<Frame> frames, Map<String, String> labels) {
    }

    Path file(long startMillis, long durationMillis, String suffix) {
        return dir.resolve(String.format("%s%013d-%d%s", prefix, startMillis, durationMillis, suffix));
    }

    private static long sizeOrZero(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    public Path directory() {
        return dir;
    }

    public synchronized long totalBytes() {
        return totalBytes;
    }

    /** Files on disk: two per window. */
    public synchronized int files() {
        return windows.size() * 2;
    }

    public synchronized int windowCount() {
        return windows.size();
    }

    public synchronized long evictedWindows() {
        return evictedWindows;
    }

    public synchronized long writeFailures() {
        return writeFailures;
    }

    /** The last write's error, or null when it succeeded. */
    public synchronized String lastError() {
        return lastError;
    }

    public long maxBytes() {
        return maxBytes;
    }

    public Duration maxAge() {
        return maxAge;
    }
}
