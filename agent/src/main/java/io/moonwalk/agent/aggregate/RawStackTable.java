package io.moonwalk.agent.aggregate;

import java.util.Arrays;

/**
 * Counts samples per distinct (pid, image, tid, thread name, frame words, label key) without allocating on
 * the hot path: a sample whose stack was seen before costs one hash, one probe sequence and one
 * word-by-word compare. New stacks copy their words into a shared pool.
 *
 * <p>Bounded: at most {@code maxStacks} distinct stacks and {@code maxWords} frame words per
 * window; a sample that would need more is dropped and counted ({@link #droppedSamples()}).
 * Not thread-safe: one drain thread owns it.
 */
public final class RawStackTable {
    private final int maxStacks;
    private final int maxWords;

    private int[] slots;          // hash slot -> entry index + 1 (0 = empty)
    private int size;
    private int[] hashes = new int[256];
    private int[] pids = new int[256];
    private int[] images = new int[256];
    private int[] tids = new int[256];
    private long[] comm0 = new long[256];
    private long[] comm1 = new long[256];
    private long[] labelKeys = new long[256];
    private int[] kernelFrames = new int[256];
    private int[] wordOffsets = new int[256];
    private int[] wordCounts = new int[256];
    private long[] counts = new long[256];
    private long[] words = new long[4096];
    private int wordsUsed;
    private long totalSamples;
    private long droppedSamples;

    /** Peak heap bytes per frame word at the cap: the pool and the copy that grows it live together. */
    static final long PEAK_BYTES_PER_WORD = 16;
    /**
     * Peak heap bytes per distinct stack at the cap: eleven per-entry arrays (60 bytes) plus half of that while
     * one grows, and the hash slots (up to four ints per entry, doubled while rehashing).
     */
    static final long PEAK_BYTES_PER_STACK = 128;

    /**
     * A table whose peak footprint stays within a quarter of {@code maxHeapBytes} (three quarters of that for
     * frame words, one for the per-stack arrays), and never above {@code maxStacks}/{@code maxWords}: a busy
     * window drops and counts samples instead of filling the heap (a 128 MiB heap gets 1.5 M words, 64 K
     * stacks).
     */
    public static RawStackTable boundedByHeap(long maxHeapBytes, int maxStacks, int maxWords) {
        long budget = Math.max(maxHeapBytes, 16L << 20) / 4;
        long words = Math.min(maxWords, budget * 3 / 4 / PEAK_BYTES_PER_WORD);
        long stacks = Math.min(maxStacks, budget / 4 / PEAK_BYTES_PER_STACK);
        return new RawStackTable((int) stacks, (int) words);
    }

    public RawStackTable(int maxStacks, int maxWords) {
        if (maxStacks < 1 || maxWords < 1) {
            throw new IllegalArgumentException("table bounds must be positive");
        }
        this.maxStacks = maxStacks;
        this.maxWords = maxWords;
        this.slots = new int[1024];
    }

    /**
     * Adds one sample.
     *
     * @param frameWords  leaf-first frame words; only the first {@code n} are read
     * @param labelKey    an opaque key for per-sample labels (e.g. VM state), 0 for none
     * @return false when the sample was dropped because the table is full
     */
    public boolean add(int pid, int tid, long commLo, long commHi, long[] frameWords, int n,
                       int kernelFrameCount, long labelKey, long count) {
        return add(pid, 0, tid, commLo, commHi, frameWords, n, kernelFrameCount, labelKey, count);
    }

    /**
     * Adds one sample of one image of a process.
     *
     * @param image which image of {@code pid} the sample ran in: a PID that execs keeps its number but its
     *              addresses mean something else afterwards, so samples of the two images must not merge
     */
    public boolean add(int pid, int image, int tid, long commLo, long commHi, long[] frameWords, int n,
                       int kernelFrameCount, long labelKey, long count) {
        int h = hash(pid, tid, commLo, commHi, frameWords, n, labelKey) * 31 + image;
        int mask = slots.length - 1;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            int e = slots[i] - 1;
            if (e < 0) {
                break;
            }
            if (hashes[e] == h && pids[e] == pid && images[e] == image && tids[e] == tid && comm0[e] == commLo
                    && comm1[e] == commHi && labelKeys[e] == labelKey && wordCounts[e] == n
                    && Arrays.equals(words, wordOffsets[e], wordOffsets[e] + n, frameWords, 0, n)) {
                counts[e] += count;
                totalSamples += count;
                return true;
            }
        }
        if (size >= maxStacks || wordsUsed + n > maxWords) {
            droppedSamples += count;
            return false;
        }
        insert(h, pid, image, tid, commLo, commHi, frameWords, n, kernelFrameCount, labelKey, count);
        totalSamples += count;
        return true;
    }

    private void insert(int h, int pid, int image, int tid, long commLo, long commHi, long[] frameWords, int n,
                        int kernelFrameCount, long labelKey, long count) {
        if (size == pids.length) {
            int cap = (int) Math.min(maxStacks, pids.length * 2L);
            hashes = Arrays.copyOf(hashes, cap);
            pids = Arrays.copyOf(pids, cap);
            images = Arrays.copyOf(images, cap);
            tids = Arrays.copyOf(tids, cap);
            comm0 = Arrays.copyOf(comm0, cap);
            comm1 = Arrays.copyOf(comm1, cap);
            labelKeys = Arrays.copyOf(labelKeys, cap);
            kernelFrames = Arrays.copyOf(kernelFrames, cap);
            wordOffsets = Arrays.copyOf(wordOffsets, cap);
            wordCounts = Arrays.copyOf(wordCounts, cap);
            counts = Arrays.copyOf(counts, cap);
        }
        if (wordsUsed + n > words.length) {
            words = Arrays.copyOf(words, (int) Math.min(maxWords, Math.max(words.length * 2L, wordsUsed + n)));
        }
        int e = size++;
        hashes[e] = h;
        pids[e] = pid;
        images[e] = image;
        tids[e] = tid;
        comm0[e] = commLo;
        comm1[e] = commHi;
        labelKeys[e] = labelKey;
        kernelFrames[e] = kernelFrameCount;
        wordOffsets[e] = wordsUsed;
        wordCounts[e] = n;
        counts[e] = count;
        System.arraycopy(frameWords, 0, words, wordsUsed, n);
        wordsUsed += n;
        if (size * 2 > slots.length) {
            rehash(slots.length * 2);
        } else {
            place(e);
        }
    }

    private void place(int e) {
        int mask = slots.length - 1;
        int i = hashes[e] & mask;
        while (slots[i] != 0) {
            i = (i + 1) & mask;
        }
        slots[i] = e + 1;
    }

    private void rehash(int capacity) {
        slots = new int[capacity];
        for (int e = 0; e < size; e++) {
            place(e);
        }
    }

    private static int hash(int pid, int tid, long c0, long c1, long[] w, int n, long labelKey) {
        long h = 0x9E3779B97F4A7C15L ^ pid;
        h = mix(h, tid);
        h = mix(h, c0);
        h = mix(h, c1);
        h = mix(h, labelKey);
        for (int i = 0; i < n; i++) {
            h = mix(h, w[i]);
        }
        return (int) (h ^ (h >>> 32));
    }

    private static long mix(long h, long v) {
        h ^= v;
        h *= 0xff51afd7ed558ccdL;
        return h ^ (h >>> 33);
    }

    /** Empties the table for the next window; keeps the allocated capacity. */
    public void clear() {
        Arrays.fill(slots, 0);
        size = 0;
        wordsUsed = 0;
        totalSamples = 0;
        droppedSamples = 0;
    }

    public int maxStacks() {
        return maxStacks;
    }

    public int maxWords() {
        return maxWords;
    }

    public int size() {
        return size;
    }

    public long totalSamples() {
        return totalSamples;
    }

    public long droppedSamples() {
        return droppedSamples;
    }

    public int pid(int e) {
        return pids[e];
    }

    /** Which image of {@link #pid} the stack ran in (see {@link #add(int, int, int, long, long, long[], int, int, long, long)}). */
    public int image(int e) {
        return images[e];
    }

    public int tid(int e) {
        return tids[e];
    }

    /** The thread name as stored by the kernel (NUL-padded, up to 16 bytes). */
    public String threadName(int e) {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (comm0[e] >>> (8 * i));
            b[8 + i] = (byte) (comm1[e] >>> (8 * i));
        }
        int len = 0;
        while (len < 16 && b[len] != 0) {
            len++;
        }
        return new String(b, 0, len, java.nio.charset.StandardCharsets.UTF_8);
    }

    public long labelKey(int e) {
        return labelKeys[e];
    }

    public int kernelFrames(int e) {
        return kernelFrames[e];
    }

    public int wordCount(int e) {
        return wordCounts[e];
    }

    public long word(int e, int i) {
        if (i < 0 || i >= wordCounts[e]) {
            throw new IndexOutOfBoundsException(i);
        }
        return words[wordOffsets[e] + i];
    }

    public long count(int e) {
        return counts[e];
    }
}
