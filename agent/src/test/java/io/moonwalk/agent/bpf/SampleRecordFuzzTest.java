package io.moonwalk.agent.bpf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of the ring-buffer record decoder: whatever bytes arrive, {@code wrap}
 * either refuses the record or every accessor stays inside it (a record is the kernel's, but a
 * mismatched object or a bug must give a counted drop, not an exception on the drain thread).
 */
@Tag("pure")
class SampleRecordFuzzTest {
    private final SampleRecord view = new SampleRecord();

    @FuzzTest(maxDuration = "30s")
    void decode(byte[] data) {
        if (!view.wrap(MemorySegment.ofArray(data))) {
            return;
        }
        view.pid();
        view.tid();
        view.cpu();
        view.ktimeNanos();
        view.comm();
        view.flags();
        view.interruptedKernel();
        view.vm();
        view.vmstate();
        for (int i = 0; i < view.frameWords(); i++) {
            long w = view.frameWord(i);
            SampleRecord.kind(w);
            SampleRecord.extraWords(w);
            SampleRecord.address(w);
            SampleRecord.errorReason(w);
        }
        if (view.kernelFrames() > view.frameWords()) {
            throw new AssertionError("kernel frames beyond the record");
        }
    }
}
