package io.moonwalk.unwinder.cfi;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CIE/FDE variants that the system binaries do not exercise: pointer encodings, 64-bit lengths, versions. */
@Tag("pure")
class CfiEncodingTest {
    private static final long VADDR = 0x40_0000;
    private static final long FUNC = 0x40_1230;

    /** .eh_frame with one "zR" CIE using {@code enc} and one FDE for [FUNC, FUNC+0x40) with a push at +1. */
    private static CfiBytes ehFrame(int enc, PointerBases bases) {
        CfiBytes s = new CfiBytes();
        s.entry(CfiBytes.ehCie("zR", new byte[] {(byte) enc}));
        int fdeStart = s.offset();
        CfiBytes body = new CfiBytes();
        body.u32(fdeStart + 4); // CIE pointer: distance back to offset 0
        long fieldVaddr = VADDR + fdeStart + 8;
        long base = switch (enc & 0x70) {
            case 0x10 -> fieldVaddr;
            case 0x20 -> bases.textVaddr();
            case 0x30 -> bases.dataVaddr();
            default -> 0;
        };
        long v = FUNC - base;
        switch (enc & 0x0f) {
            case 0x00, 0x04, 0x0c -> body.u64(v).u64(0x40);
            case 0x01 -> body.uleb(v).uleb(0x40);
            case 0x09 -> body.sleb(v).sleb(0x40);
            case 0x02, 0x0a -> body.u16((int) v).u16(0x40);
            case 0x03, 0x0b -> body.u32(v).u32(0x40);
            default -> throw new IllegalArgumentException();
        }
        body.uleb(0); // augmentation data length
        body.u8(0x41).u8(0x0e).uleb(16).u8(0x86).uleb(2); // advance 1; def_cfa_offset 16; rbp at c-16
        s.entry(body);
        return s.u32(0);
    }

    /** 2-byte formats cannot hold these addresses; {@link #udata2WithSmallAddresses} covers them. */
    @ParameterizedTest(name = "encoding {0}")
    @ValueSource(ints = {0x00, 0x01, 0x03, 0x04, 0x09, 0x0b, 0x0c, 0x1b, 0x13, 0x1c, 0x19, 0x33, 0x2b})
    void everyPointerEncodingGivesTheSameTable(int enc) throws Exception {
        PointerBases bases = new PointerBases(0x40_1000, 0x40_0800);
        CfiSection sec = CfiSection.parse(CfiSection.Kind.EH_FRAME, ehFrame(enc, bases).buffer(), VADDR, bases);
        assertThat(sec.skipReasons()).isEmpty();
        assertThat(sec.fdes()).singleElement().satisfies(f -> {
            assertThat(f.pcBegin()).isEqualTo(FUNC);
            assertThat(f.pcEnd()).isEqualTo(FUNC + 0x40);
        });
        UnwindTable t = UnwindTableBuilder.build(List.of(sec), new RuleDictionary(), -1);
        assertThat(t.lookup(FUNC)).hasToString("rsp+8");
        assertThat(t.lookup(FUNC + 1)).hasToString("rsp+16 rbp@c-16");
        assertThat(t.lookup(FUNC + 0x3f)).hasToString("rsp+16 rbp@c-16");
        assertThat(t.lookup(FUNC + 0x40)).isEqualTo(UnwindRule.INVALID);
        assertThat(t.lookup(FUNC - 1)).isEqualTo(UnwindRule.INVALID);
    }

    @Test
    void udata2WithSmallAddresses() throws Exception {
        CfiBytes s = new CfiBytes();
        s.entry(CfiBytes.ehCie("zR", new byte[] {0x02}));
        int at = s.offset();
        s.entry(new CfiBytes().u32(at + 4).u16(0x1200).u16(0x10).uleb(0).u8(0x07).uleb(16)); // RA undefined
        CfiSection sec = CfiSection.parse(CfiSection.Kind.EH_FRAME, s.buffer(), 0, PointerBases.NONE);
        UnwindTable t = UnwindTableBuilder.build(List.of(sec), new RuleDictionary(), -1);
        assertThat(t.lookup(0x1205)).isEqualTo(UnwindRule.END);
    }

    @Test
    void relativePointerWithoutItsBaseIsACountedSkipNotAGuess() throws Exception {
        PointerBases bases = new PointerBases(0x40_1000, 0x40_0800);
        CfiSection sec = CfiSection.parse(CfiSection.Kind.EH_FRAME, ehFrame(0x33, bases).buffer(), VADDR,
                PointerBases.NONE);
        assertThat(sec.fdes()).isEmpty();
        assertThat(sec.skippedEntries()).isEqualTo(1);
        assertThat(sec.skipReasons().getFirst()).contains("datarel");
    }

    @Test
    void personalityLsdaSignalAndEhAugmentations() throws Exception {
        CfiBytes s = new CfiBytes();
        // "zPLR": personality indirect|pcrel|sdata4 (only skipped), LSDA pcrel|sdata4, FDEs pcrel|sdata4.
        s.entry(CfiBytes.ehCie("zPLR", new byte[] {(byte) 0x9b, 1, 2, 3, 4, 0x1b, 0x1b}));
        int fde1 = s.offset();
        s.entry(new CfiBytes().u32(fde1 + 4).u32(0x100 - (fde1 + 8)).u32(0x10).uleb(4).u32(0));
        int sigCie = s.offset();
        s.entry(CfiBytes.ehCie("zRS", new byte[] {0x1b}));
        int fde2 = s.offset();
        s.entry(new CfiBytes().u32(fde2 + 4 - sigCie).u32(0x200 - (fde2 + 8)).u32(0x10).uleb(0));
        int ehCie = s.offset();
        CfiBytes eh = new CfiBytes().u32(0).u8(1).str("eh").u64(0xdead).uleb(1).sleb(-8).u8(16);
        s.entry(CfiBytes.x86InitialInstructions(eh));
        int fde3 = s.offset();
        s.entry(new CfiBytes().u32(fde3 + 4 - ehCie).u64(0x300).u64(0x10));
        s.u32(0);
        CfiSection sec = CfiSection.parse(CfiSection.Kind.EH_FRAME, s.buffer(), 0, PointerBases.NONE);
        assertThat(sec.skipReasons()).isEmpty();
        assertThat(sec.fdes()).extracting(Fde::pcBegin).containsExactly(0x100L, 0x200L, 0x300L);
        UnwindTable t = UnwindTableBuilder.build(List.of(sec), new RuleDictionary(), -1);
        assertThat(t.lookup(0x105)).hasToString("rsp+8");
        assertThat(t.lookup(0x205)).isEqualTo(UnwindRule.SIGNAL);
        assertThat(t.lookup(0x305)).hasToString("rsp+8");
        assertThat(t.lookup(0x180)).isEqualTo(UnwindRule.INVALID);
    }

    @Test
    void dwarf64LengthsInEhFrame() throws Exception {
        CfiBytes s = new CfiBytes();
        CfiBytes cie = new CfiBytes().u64(0).u8(1).str("zR").uleb(1).sleb(-8).u8(16).uleb(1).u8(0x04);
        s.entry64(CfiBytes.x86InitialInstructions(cie));
        int fde = s.offset();
        // 64-bit CIE pointer: distance from the pointer field (fde + 12) back to the CIE at 0.
        s.entry64(new CfiBytes().u64(fde + 12).u64(0x5000).u64(0x20).uleb(0).u8(0x44).u8(0x0e).uleb(32));
        CfiSection sec = CfiSection.parse(CfiSection.Kind.EH_FRAME, s.buffer(), 0, PointerBases.NONE);
        assertThat(sec.skipReasons()).isEmpty();
        UnwindTable t = UnwindTableBuilder.build(List.of(sec), new RuleDictionary(), -1);
        assertThat(t.lookup(0x5003)).hasToString("rsp+8");
        assertThat(t.lookup(0x5004)).hasToString("rsp+32");
    }

    @ParameterizedTest(name = "version {0}")
    @ValueSource(ints = {1, 3, 4})
    void debugFrameVersionsAnd64Bit(int version) throws Exception {
        for (boolean dwarf64 : new boolean[] {false, true}) {
            CfiBytes cie = new CfiBytes();
            if (dwarf64) {
                cie.u64(-1L);
            } else {
                cie.u32(0xffff_ffffL);
            }
            cie.u8(version).str("");
            if (version == 4) {
                cie.u8(8).u8(0);
            }
            cie.uleb(1).sleb(-8);
            if (version == 1) {
                cie.u8(16);
            } else {
                cie.uleb(16);
            }
            CfiBytes s = new CfiBytes();
            CfiBytes.x86InitialInstructions(cie);
            CfiBytes fde = new CfiBytes();
            if (dwarf64) {
                s.entry64(cie);
                fde.u64(0);
            } else {
                s.entry(cie);
                fde.u32(0);
            }
            // def_cfa rbp+16, rbp at c-16, then DW_CFA_set_loc to +8 and def_cfa_sf rsp + (-1 * -8).
            fde.u64(0x7000).u64(0x10).u8(0x0c).uleb(6).uleb(16).u8(0x86).uleb(2).u8(0x01).u64(0x7008)
                    .u8(0x12).uleb(7).sleb(-1);
            if (dwarf64) {
                s.entry64(fde);
            } else {
                s.entry(fde);
            }
            s.u32(0); // zero padding is skipped in .debug_frame
            UnwindTable t = UnwindTableBuilder.fromDebugFrame(s.buffer(), new RuleDictionary());
            assertThat(t.stats().skipReasons()).isEmpty();
            assertThat(t.lookup(0x7000)).as("dwarf64=%s", dwarf64).hasToString("rbp+16 rbp@c-16");
            assertThat(t.lookup(0x7008)).as("dwarf64=%s", dwarf64).hasToString("rsp+8 rbp@c-16");
        }
    }

    @Test
    void ehFrameHdrMustPointAtTheGivenEhFrame() {
        CfiBytes hdr = new CfiBytes().u8(1, 0x1b, 0x03, 0x3b).u32(0x100 - 4).u32(0);
        CfiBytes eh = new CfiBytes().u32(0);
        assertThatThrownBy(() -> UnwindTableBuilder.fromEhFrame(eh.buffer(), 0x2000, hdr.buffer(), 0x1000,
                new RuleDictionary())).isInstanceOf(CfiFormatException.class).hasMessageContaining("points at");
    }
}
