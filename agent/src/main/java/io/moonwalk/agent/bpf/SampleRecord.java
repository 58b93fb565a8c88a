package io.moonwalk.agent.bpf;

import io.moonwalk.bpf.layout.RecordLayout;

import static io.moonwalk.bpf.layout.RecordLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A reusable view of one {@code struct mw_sample} record in the ring buffer. Valid only during the
 * {@link RecordHandler#onSample} call that received it: the memory belongs to the ring buffer and is
 * released after the call returns. Copy out what you keep.
 */
public final class SampleRecord {
    private MemorySegment seg = MemorySegment.NULL;
    private int frameWords;

    /**
     * Points this view at {@code record}. Returns false (and leaves the view empty) when the record
     * is not a well-formed sample: too short for its header, or shorter than its frame count says.
     */
    public boolean wrap(MemorySegment record) {
        long size = record.byteSize();
        if (size < SAMPLE_HEADER_BYTES || record.get(JAVA_INT_UNALIGNED, SAMPLE_TYPE) != EVENT_SAMPLE) {
            clear();
            return false;
        }
        int words = Short.toUnsignedInt(record.get(JAVA_SHORT_UNALIGNED, SAMPLE_FRAME_WORDS));
        int kernel = Short.toUnsignedInt(record.get(JAVA_SHORT_UNALIGNED, SAMPLE_KERNEL_FRAMES));
        if (words > MAX_FRAME_WORDS || kernel > words || SAMPLE_HEADER_BYTES + 8L * words > size) {
            clear();
            return false;
        }
        seg = record;
        frameWords = words;
        return true;
    }

    private void clear() {
        seg = MemorySegment.NULL;
        frameWords = 0;
    }

    public int pid() {
        return seg.get(JAVA_INT_UNALIGNED, SAMPLE_PID);
    }

    /** What the record stands for: {@link RecordLayout#SAMPLE_KIND_CPU}, {@link RecordLayout#SAMPLE_KIND_OFF_CPU}. */
    public int kind() {
        return seg.get(JAVA_INT_UNALIGNED, SAMPLE_KIND);
    }

    /** The kind's value: 0 for a CPU sample, nanoseconds blocked for an off-CPU one. */
    public long value() {
        return seg.get(JAVA_LONG_UNALIGNED, SAMPLE_VALUE);
    }

    public int tid() {
        return seg.get(JAVA_INT_UNALIGNED, SAMPLE_TID);
    }

    public int cpu() {
        return seg.get(JAVA_INT_UNALIGNED, SAMPLE_CPU);
    }

    /** bpf_ktime_get_ns() at the sample: CLOCK_MONOTONIC nanoseconds. */
    public long ktimeNanos() {
        return seg.get(JAVA_LONG_UNALIGNED, SAMPLE_KTIME_NS);
    }

    /** Bytes 8*i .. 8*i+7 of the NUL-padded thread name as a little-endian word (i = 0 or 1); no allocation. */
    public long commWord(int i) {
        return seg.get(JAVA_LONG_UNALIGNED, SAMPLE_COMM + 8L * java.util.Objects.checkIndex(i, 2));
    }

    /** The thread name (allocates). */
    public String comm() {
        int len = 0;
        while (len < COMM_LEN && seg.get(JAVA_BYTE, SAMPLE_COMM + len) != 0) {
            len++;
        }
        byte[] bytes = new byte[len];
        MemorySegment.copy(seg, JAVA_BYTE, SAMPLE_COMM, bytes, 0, len);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** {@link RecordLayout#SAMPLE_KERNEL_MODE}, {@link RecordLayout#SAMPLE_TRUNCATED} bits. */
    public int flags() {
        return seg.get(JAVA_INT_UNALIGNED, SAMPLE_FLAGS);
    }

    public boolean interruptedKernel() {
        return (flags() & SAMPLE_KERNEL_MODE) != 0;
    }

    /** Leading frame words that belong to the kernel stack (including its error word, if any). */
    public int kernelFrames() {
        return Short.toUnsignedInt(seg.get(JAVA_SHORT_UNALIGNED, SAMPLE_KERNEL_FRAMES));
    }

    public int frameWords() {
        return frameWords;
    }

    /** Frame word {@code i}, leaf first. */
    public long frameWord(int i) {
        Objects.checkIndex(i, frameWords);
        return seg.get(JAVA_LONG_UNALIGNED, SAMPLE_HEADER_BYTES + 8L * i);
    }

    /** LuaJIT global_State of the sample, 0 if none. */
    public long vm() {
        return seg.get(JAVA_LONG_UNALIGNED, SAMPLE_VM);
    }

    public int vmstate() {
        return seg.get(JAVA_INT_UNALIGNED, SAMPLE_VMSTATE);
    }

    // ---- frame word decoding ----

    /** enum mw_frame_kind of the word ({@link RecordLayout#FRAME_KERNEL}, ...). */
    public static int kind(long word) {
        return (int) (word >>> FRAME_KIND_SHIFT);
    }

    /** Number of words following this one that belong to the same frame. */
    public static int extraWords(long word) {
        return RecordLayout.frameExtraWords(word);
    }

    /** The code address of a KERNEL or NATIVE frame; kernel addresses come back sign-extended. */
    public static long address(long word) {
        long a = word & FRAME_ADDR_MASK;
        return kind(word) == FRAME_KERNEL ? (a << (Long.SIZE - FRAME_ADDR_BITS)) >> (Long.SIZE - FRAME_ADDR_BITS) : a;
    }

    /** True for return addresses: symbolize at {@code address - 1} to land in the calling instruction. */
    public static boolean isReturnAddress(long word) {
        return (word & FRAME_RETURN_ADDR) != 0;
    }

    /** enum mw_error_reason of an ERROR frame, or -1 for other kinds. */
    public static int errorReason(long word) {
        return kind(word) == FRAME_ERROR ? (int) (word & FRAME_PAYLOAD_MASK) : -1;
    }

    /** Builds a KERNEL or NATIVE word the way the BPF program does (tests and replay). */
    public static long encode(int kind, long address, boolean returnAddress) {
        return ((long) kind << FRAME_KIND_SHIFT) | (address & FRAME_ADDR_MASK) | (returnAddress ? FRAME_RETURN_ADDR : 0);
    }

    /** Builds an ERROR word the way the BPF program does. */
    public static long encodeError(int reason) {
        return ((long) FRAME_ERROR << FRAME_KIND_SHIFT) | (reason & FRAME_PAYLOAD_MASK);
    }

    /** A copy of this record's bytes (header and used frame words), e.g. to replay it later. */
    public byte[] copyBytes() {
        return seg.asSlice(0, SAMPLE_HEADER_BYTES + 8L * frameWords).toArray(JAVA_BYTE);
    }
}
