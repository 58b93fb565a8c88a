package io.moonwalk.interpreter;

import static io.moonwalk.bpf.layout.RecordLayout.FRAME_ADDR_BITS;
import static io.moonwalk.bpf.layout.RecordLayout.FRAME_ADDR_MASK;
import static io.moonwalk.bpf.layout.RecordLayout.FRAME_KERNEL;
import static io.moonwalk.bpf.layout.RecordLayout.FRAME_KIND_SHIFT;

import io.moonwalk.bpf.layout.RecordLayout;

/**
 * The frame words of one stack, leaf first, as the kernel walker wrote them: a header word (kind, extra-word
 * count, payload) followed by its extra words. A view: valid only during the call it is passed to.
 */
public interface FrameWords {
    int length();

    long word(int i);

    /** enum {@code mw_frame_kind} of a header word. */
    static int kind(long word) {
        return (int) (word >>> FRAME_KIND_SHIFT);
    }

    /** Words following a header word that belong to the same frame. */
    static int extraWords(long word) {
        return RecordLayout.frameExtraWords(word);
    }

    /** The address payload of a header word (kernel addresses sign-extended). */
    static long address(long word) {
        long a = word & FRAME_ADDR_MASK;
        return kind(word) == FRAME_KERNEL ? (a << (Long.SIZE - FRAME_ADDR_BITS)) >> (Long.SIZE - FRAME_ADDR_BITS) : a;
    }

    /** A view of the first {@code n} words of {@code words}. */
    static FrameWords of(long[] words, int n) {
        return new ArrayWords(words, n);
    }
}
