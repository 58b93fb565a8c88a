package io.moonwalk.interpreter;

import java.util.Objects;

/** {@link FrameWords} over the first {@code n} entries of an array; reusable with {@link #reset}. */
public final class ArrayWords implements FrameWords {
    private long[] words;
    private int n;

    public ArrayWords(long[] words, int n) {
        reset(words, n);
    }

    /** Points this view at other words (no allocation on hot paths). */
    public ArrayWords reset(long[] words, int n) {
        Objects.checkFromIndexSize(0, n, words.length);
        this.words = words;
        this.n = n;
        return this;
    }

    @Override
    public int length() {
        return n;
    }

    @Override
    public long word(int i) {
        Objects.checkIndex(i, n);
        return words[i];
    }
}
