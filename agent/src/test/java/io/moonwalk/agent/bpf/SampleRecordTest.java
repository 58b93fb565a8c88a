package io.moonwalk.agent.bpf;

import org.junit.jupiter.api.Tag;
import static io.moonwalk.bpf.layout.RecordLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

@Tag("pure")
class SampleRecordTest {
    @Test
    void decodesKernelWordsWithSignExtension() {
        long kernelPc = 0xffffffff81234567L;
        long w = SampleRecord.encode(FRAME_KERNEL, kernelPc, false);
        assertThat(SampleRecord.kind(w)).isEqualTo(FRAME_KERNEL);
        assertThat(SampleRecord.address(w)).isEqualTo(kernelPc);
        assertThat(SampleRecord.isReturnAddress(w)).isFalse();
        assertThat(SampleRecord.errorReason(w)).isEqualTo(-1);
    }

    @Test
    void decodesUserWordsWithoutSignExtension() {
        long userPc = 0x7fff_1234_5678L;
        long w = SampleRecord.encode(FRAME_NATIVE, userPc, true);
        assertThat(SampleRecord.kind(w)).isEqualTo(FRAME_NATIVE);
        assertThat(SampleRecord.address(w)).isEqualTo(userPc);
        assertThat(SampleRecord.isReturnAddress(w)).isTrue();
        assertThat(SampleRecord.extraWords(w)).isZero();
    }

    @Test
    void decodesErrorWords() {
        long w = SampleRecord.encodeError(ERR_DEPTH_LIMIT);
        assertThat(SampleRecord.kind(w)).isEqualTo(FRAME_ERROR);
        assertThat(SampleRecord.errorReason(w)).isEqualTo(ERR_DEPTH_LIMIT);
        assertThat(w >>> 60).isEqualTo(15);
    }

    @Test
    void readsAWellFormedRecord() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rec = sample(arena, 3, 1, 0);
            rec.set(JAVA_LONG, SAMPLE_HEADER_BYTES, SampleRecord.encode(FRAME_KERNEL, 0xffffffff81000010L, false));
            rec.set(JAVA_LONG, SAMPLE_HEADER_BYTES + 8, SampleRecord.encode(FRAME_NATIVE, 0x401000, false));
            rec.set(JAVA_LONG, SAMPLE_HEADER_BYTES + 16, SampleRecord.encode(FRAME_NATIVE, 0x401234, true));
            SampleRecord r = new SampleRecord();
            assertThat(r.wrap(rec)).isTrue();
            assertThat(r.pid()).isEqualTo(4242);
            assertThat(r.tid()).isEqualTo(4243);
            assertThat(r.cpu()).isEqualTo(1);
            assertThat(r.ktimeNanos()).isEqualTo(123_456_789L);
            assertThat(r.comm()).isEqualTo("nginx");
            assertThat(r.flags()).isEqualTo(SAMPLE_KERNEL_MODE);
            assertThat(r.interruptedKernel()).isTrue();
            assertThat(r.kernelFrames()).isEqualTo(1);
            assertThat(r.frameWords()).isEqualTo(3);
            assertThat(SampleRecord.address(r.frameWord(0))).isEqualTo(0xffffffff81000010L);
            assertThat(SampleRecord.address(r.frameWord(2))).isEqualTo(0x401234);
            assertThat(r.vm()).isEqualTo(0xabcdefL);
            assertThat(r.vmstate()).isEqualTo(-3);
            assertThatThrownBy(() -> r.frameWord(3)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void rejectsRecordsShorterThanTheirFrameCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rec = sample(arena, 3, 0, 1); // one word short
            SampleRecord r = new SampleRecord();
            assertThat(r.wrap(rec)).isFalse();
            assertThat(r.frameWords()).isZero();
            assertThat(r.wrap(rec.asSlice(0, 10))).isFalse();
        }
    }

    @Test
    void rejectsMoreKernelFramesThanFrames() {
        try (Arena arena = Arena.ofConfined()) {
            assertThat(new SampleRecord().wrap(sample(arena, 2, 3, 0))).isFalse();
        }
    }

    @Test
    void rejectsOtherEventTypes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rec = sample(arena, 0, 0, 0);
            rec.set(JAVA_INT, SAMPLE_TYPE, EVENT_EXIT);
            assertThat(new SampleRecord().wrap(rec)).isFalse();
        }
    }

    private static MemorySegment sample(Arena arena, int words, int kernel, int missingWords) {
        MemorySegment rec = arena.allocate(SAMPLE_HEADER_BYTES + 8L * (words - missingWords), 8);
        rec.set(JAVA_INT, SAMPLE_TYPE, EVENT_SAMPLE);
        rec.set(JAVA_INT, SAMPLE_PID, 4242);
        rec.set(JAVA_INT, SAMPLE_TID, 4243);
        rec.set(JAVA_INT, SAMPLE_CPU, 1);
        rec.set(JAVA_LONG, SAMPLE_KTIME_NS, 123_456_789L);
        rec.asSlice(SAMPLE_COMM, COMM_LEN).setString(0, "nginx");
        rec.set(JAVA_SHORT, SAMPLE_FRAME_WORDS, (short) words);
        rec.set(JAVA_SHORT, SAMPLE_KERNEL_FRAMES, (short) kernel);
        rec.set(JAVA_INT, SAMPLE_FLAGS, SAMPLE_KERNEL_MODE);
        rec.set(JAVA_LONG, SAMPLE_VM, 0xabcdefL);
        rec.set(JAVA_INT, SAMPLE_VMSTATE, -3);
        return rec;
    }
}
