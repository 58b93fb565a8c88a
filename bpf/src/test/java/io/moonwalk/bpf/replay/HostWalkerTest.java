package io.moonwalk.bpf.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.bpf.maps.InMemoryBpfMaps;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The host build of the sampler and walkers (libmwreplay.so) runs the kernel's programs: these cases use the
 * frame-pointer fallback of a mapping without a table (file id 0) over a synthetic stack, so what is checked is the
 * C's own behaviour through the swapped helpers: map lookups in Java maps, reads of target memory, tail calls (a
 * 40-frame chain takes three runs of mw_walk), the depth and fault handling and the record it emits. The unwind
 * tables of real files are exercised by the core replay tests (agent, io.moonwalk.agent.replay).
 */
class HostWalkerTest {
    private static final int PID = 4242;
    private static final long CODE = 0x400000L;
    private static final long STACK = 0x7ff000000000L;

    /** A stack of `frames` frame-pointer frames: rbp chain at STACK + 0x100 * i, return addresses in CODE. */
    private static ByteBuffer stack(int frames) {
        ByteBuffer b = ByteBuffer.allocate(0x100 * (frames + 2)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < frames; i++) {
            long rbp = STACK + 0x100L * i;
            long callerRbp = i + 1 < frames ? rbp + 0x100 : 0;
            long ra = i + 1 < frames ? CODE + 0x10 * (i + 1) : 0;
            b.putLong(0x100 * i, callerRbp);
            b.putLong(0x100 * i + 8, ra);
        }
        return b;
    }

    private static TargetMemory memoryOf(ByteBuffer stack) {
        return (address, dst) -> {
            long off = address - STACK;
            if (off < 0 || off + dst.byteSize() > stack.capacity()) {
                return false;
            }
            MemorySegment.copy(MemorySegment.ofBuffer(stack), off, dst, 0, dst.byteSize());
            return true;
        };
    }

    private static InMemoryBpfMaps maps(boolean synced) {
        InMemoryBpfMaps maps = InMemoryBpfMaps.unwinder(64, 4, 16, 16);
        if (synced) {
            maps.map(InMemoryBpfMaps.PID_MAPS).update(key(96, 0), mapping(0, RecordLayout.MAP_PID_MARKER));
            // the code: 0x400000/22 holds [0x400000, 0x800000)
            maps.map(InMemoryBpfMaps.PID_MAPS).update(key(32 + 42, CODE), mapping(0, RecordLayout.MAP_NATIVE));
        }
        return maps;
    }

    private static byte[] key(int prefixBits, long address) {
        MemorySegment k = MemorySegment.ofArray(new byte[(int) RecordLayout.PID_KEY.byteSize()]);
        RecordLayout.PID_KEY_PREFIXLEN.set(k, 0L, prefixBits);
        RecordLayout.PID_KEY_PID.set(k, 0L, PID);
        RecordLayout.PID_KEY_ADDRESS.set(k, 0L, address);
        return k.toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] mapping(long fileId, int kind) {
        MemorySegment v = MemorySegment.ofArray(new byte[(int) RecordLayout.MAPPING.byteSize()]);
        RecordLayout.MAPPING_FILE_ID.set(v, 0L, fileId);
        RecordLayout.MAPPING_KIND.set(v, 0L, kind);
        return v.toArray(ValueLayout.JAVA_BYTE);
    }

    private static long[] regs(long rip, long rsp, long rbp) {
        long[] r = new long[HostWalker.USER_REGS_WORDS];
        r[4] = rbp;  // user_regs_struct: r15 r14 r13 r12 rbp rbx ...
        r[16] = rip;
        r[19] = rsp;
        return r;
    }

    /** (type, words) of the sample record among the records. */
    private static long[] sampleWords(List<byte[]> records, int[] flagsOut) {
        for (byte[] r : records) {
            ByteBuffer b = ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getInt(0) != RecordLayout.EVENT_SAMPLE) {
                continue;
            }
            int words = Short.toUnsignedInt(b.getShort((int) RecordLayout.SAMPLE.byteOffset(
                    java.lang.foreign.MemoryLayout.PathElement.groupElement("frame_words"))));
            flagsOut[0] = b.getInt((int) RecordLayout.SAMPLE.byteOffset(
                    java.lang.foreign.MemoryLayout.PathElement.groupElement("flags")));
            int at = (int) RecordLayout.SAMPLE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("frames"));
            long[] w = new long[words];
            for (int i = 0; i < words; i++) {
                w[i] = b.getLong(at + 8 * i);
            }
            return w;
        }
        throw new AssertionError("no sample record among " + records.size());
    }

    @Test
    void walksAFramePointerChainAcrossTailCalls() {
        int frames = 40;
        HostWalker w = HostWalker.over(maps(true));
        List<byte[]> records = w.sample(PID, PID, "fp", regs(CODE + 0x8, STACK - 0x40, STACK), memoryOf(stack(frames)));
        int[] flags = new int[1];
        long[] words = sampleWords(records, flags);
        // leaf + one frame per return address, the last return address 0 ends the walk (MW_STEP_END): complete
        List<Long> pcs = new ArrayList<>();
        for (long word : words) {
            assertThat(word >>> RecordLayout.FRAME_KIND_SHIFT).isEqualTo(RecordLayout.FRAME_NATIVE);
            pcs.add(word & RecordLayout.FRAME_ADDR_MASK);
        }
        assertThat(pcs).hasSize(frames);
        assertThat(pcs.get(0)).isEqualTo(CODE + 0x8);
        for (int i = 1; i < frames; i++) {
            assertThat(pcs.get(i)).isEqualTo(CODE + 0x10 * i);
            assertThat(words[i] & RecordLayout.FRAME_RETURN_ADDR).isNotZero();
        }
        assertThat(flags[0] & RecordLayout.SAMPLE_TRUNCATED).isZero();
    }

    @Test
    void aStackRunningOffTheCoreEndsInAReadFault() {
        // the chain's third frame points outside the memory the core holds
        ByteBuffer s = stack(5);
        s.putLong(0x200, 0x7ffe00000000L);
        HostWalker w = HostWalker.over(maps(true));
        int[] flags = new int[1];
        long[] words = sampleWords(w.sample(PID, PID, "fp", regs(CODE, STACK - 0x40, STACK), memoryOf(s)), flags);
        long last = words[words.length - 1];
        assertThat(last >>> RecordLayout.FRAME_KIND_SHIFT).isEqualTo(RecordLayout.FRAME_ERROR);
        assertThat(last & 0xff).isIn((long) RecordLayout.ERR_READ_FAULT, (long) RecordLayout.ERR_NO_UNWIND_INFO);
        assertThat(flags[0] & RecordLayout.SAMPLE_TRUNCATED).isNotZero();
    }

    @Test
    void anUnsyncedProcessAsksForASyncAndGetsTheNotSyncedMarker() {
        HostWalker w = HostWalker.over(maps(false));
        List<byte[]> records = w.sample(PID, PID, "fp", regs(CODE, STACK - 0x40, STACK), memoryOf(stack(3)));
        assertThat(records).anySatisfy(r -> {
            ByteBuffer b = ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(b.getInt(0)).isEqualTo(RecordLayout.EVENT_NEW_PID);
            assertThat(b.getInt(4)).isEqualTo(PID);
        });
        int[] flags = new int[1];
        long[] words = sampleWords(records, flags);
        // the kernel's frame-pointer walk is not in a core: its failure is said in the record
        assertThat(words[words.length - 1] >>> RecordLayout.FRAME_KIND_SHIFT).isEqualTo(RecordLayout.FRAME_ERROR);
    }

    @Test
    void aCallbackFailureIsAnErrorNotACrash() {
        HostWalker w = HostWalker.over(maps(true));
        assertThatThrownBy(() -> w.sample(PID, PID, "fp", regs(CODE, STACK - 0x40, STACK), (a, d) -> {
            throw new IllegalStateException("boom");
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("boom");
    }
}
