package io.moonwalk.luajit.lowmem;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.process.ProcessMaps;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Headroom arithmetic on hand-written maps: clipping at the range's ends, occupants, gaps, the warning line. */
@Tag("pure")
class LowHeadroomScannerTest {
    private static final long LO = 0x4000;
    private static final long HI = 1L << 31;

    @Test
    void mappingsAreClippedToTheRangeAndClassifiedByOccupant() {
        ProcessMaps maps = ProcessMaps.parse("""
                00001000-00010000 r--p 00000000 00:00 0
                00400000-00402000 r-xp 00000000 fe:00 12 /usr/sbin/host
                00402000-00500000 rw-p 00000000 00:00 0                                  [heap]
                40000000-40100000 rw-p 00000000 00:00 0
                7ff00000-80100000 rw-p 00000000 00:00 0
                555500000000-555500001000 r-xp 00000000 fe:00 13 /usr/lib/x.so
                7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
                """);
        LowHeadroom h = LowHeadroomScanner.of(7, maps.mappings(), LO, HI);
        assertThat(h.fileBytes()).isEqualTo(0x2000);
        assertThat(h.brkBytes()).isEqualTo(0xfe000);
        // the page below LO is clipped to [LO, 0x10000); the mapping across 2 GiB counts up to 2 GiB only
        assertThat(h.anonBytes()).isEqualTo((0x10000 - LO) + 0x100000 + (HI - 0x7ff00000L));
        assertThat(h.otherBytes()).isZero();
        long used = h.fileBytes() + h.brkBytes() + h.anonBytes();
        assertThat(h.freeBytes()).isEqualTo(HI - LO - used);
        assertThat(h.largestGap()).isEqualTo(0x7ff00000L - 0x40100000L);
        assertThat(h.low()).isFalse();
    }

    @Test
    void lessThanAnEighthFreeIsLow() {
        ProcessMaps maps = ProcessMaps.parse("""
                00400000-78000000 rw-p 00000000 00:00 0                                  [heap]
                """);
        LowHeadroom h = LowHeadroomScanner.of(7, maps.mappings(), LO, HI);
        assertThat(h.freeBytes()).isEqualTo((0x400000 - LO) + (HI - 0x78000000L));
        assertThat(h.low()).isTrue();
        assertThat(LowHeadroomScanner.of(7, ProcessMaps.parse("").mappings(), LO, HI).largestGap()).isEqualTo(HI - LO);
    }
}
