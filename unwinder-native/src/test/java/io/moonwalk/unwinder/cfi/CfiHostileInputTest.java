package io.moonwalk.unwinder.cfi;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Hostile CFI gives a CfiFormatException or a counted skip; never a crash, a hang or unbounded memory. */
@Tag("tools")
class CfiHostileInputTest {

    /** A valid CIE followed by one FDE for [0x1000, 0x1100) with the given CFA program. */
    private static CfiBytes oneFde(CfiBytes program) {
        CfiBytes s = new CfiBytes();
        s.entry(CfiBytes.ehCie("zR", new byte[] {0x04}));
        int at = s.offset();
        s.entry(new CfiBytes().u32(at + 4).u64(0x1000).u64(0x100).uleb(0).bytes(program.toArray()));
        return s.u32(0);
    }

    private static UnwindTable build(CfiBytes s) throws CfiFormatException {
        return UnwindTableBuilder.fromEhFrame(s.buffer(), 0, null, 0, new RuleDictionary());
    }

    @Test
    void lengthPastTheSectionThrows() {
        CfiBytes s = new CfiBytes().u32(0x7fff_fff0L).u32(0);
        assertThatThrownBy(() -> build(s)).isInstanceOf(CfiFormatException.class).hasMessageContaining("claims");
        CfiBytes s64 = new CfiBytes().u32(0xffff_ffffL).u64(Long.MAX_VALUE);
        assertThatThrownBy(() -> build(s64)).isInstanceOf(CfiFormatException.class);
    }

    @Test
    void truncatedSectionThrows() {
        byte[] whole = oneFde(new CfiBytes().u8(0x41)).toArray();
        for (int cut = 1; cut < whole.length - 4; cut++) {
            byte[] part = Arrays.copyOf(whole, cut);
            try {
                UnwindTable t = UnwindTableBuilder.fromEhFrame(ByteBuffer.wrap(part), 0, null, 0,
                        new RuleDictionary());
                // A cut exactly at an entry boundary is a shorter but well-formed section.
                assertThat(t.stats().fdes()).isLessThanOrEqualTo(1);
            } catch (CfiFormatException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    @Test
    void deepRememberStateIsACountedSkip() throws Exception {
        CfiBytes program = new CfiBytes();
        for (int i = 0; i <= CfaProgramEvaluator.MAX_STATE_DEPTH; i++) {
            program.u8(0x0a);
        }
        UnwindTable t = build(oneFde(program));
        assertThat(t.stats().skippedEntries()).isEqualTo(1);
        assertThat(t.stats().skipReasons().getFirst()).contains("remember_state nested deeper");
        assertThat(t.lookup(0x1000)).isEqualTo(UnwindRule.INVALID);
    }

    @Test
    void restoreStateWithoutRememberIsACountedSkip() throws Exception {
        UnwindTable t = build(oneFde(new CfiBytes().u8(0x0b)));
        assertThat(t.stats().skipReasons().getFirst()).contains("without remember_state");
    }

    @Test
    void unknownOpcodeEndlessLebAndOversizedExpressionAreCountedSkips() throws Exception {
        assertThat(build(oneFde(new CfiBytes().u8(0x3f))).stats().skipReasons().getFirst())
                .contains("unknown CFA opcode 0x3f");
        CfiBytes leb = new CfiBytes().u8(0x0e);
        for (int i = 0; i < 20; i++) {
            leb.u8(0x80);
        }
        assertThat(build(oneFde(leb)).stats().skippedEntries()).isEqualTo(1);
        assertThat(build(oneFde(new CfiBytes().u8(0x0f).uleb(1000).u8(1))).stats().skipReasons().getFirst())
                .contains("runs past its entry");
    }

    @Test
    void dwarfExpressionsWeCannotFollowAreUnsupportedNeverGuessed() throws Exception {
        // CFA = *(rsp + 160): a real (signal-frame) shape, outside an 'S' CIE it must not become a rule.
        UnwindTable t = build(oneFde(new CfiBytes().u8(0x41).u8(0x0f).uleb(4).u8(0x77).uleb(0x20).sleb(0)
                .u8(0x06).u8(0x41).u8(0x0c).uleb(10).uleb(0)));
        assertThat(t.lookup(0x1000)).hasToString("rsp+8");
        assertThat(t.lookup(0x1001)).isEqualTo(UnwindRule.UNSUPPORTED);
        assertThat(t.lookup(0x1002)).as("CFA from r10").isEqualTo(UnwindRule.UNSUPPORTED);
        assertThat(t.stats().unsupportedRows()).isEqualTo(2);
    }

    @Test
    void fdeWithCiePointerToNowhereIsSkipped() throws Exception {
        CfiBytes s = new CfiBytes();
        s.entry(CfiBytes.ehCie("zR", new byte[] {0x04}));
        s.entry(new CfiBytes().u32(0x7777).u64(0x1000).u64(0x100).uleb(0));
        UnwindTable t = build(s.u32(0));
        assertThat(t.stats().skipReasons().getFirst()).contains("no CIE");
        assertThat(t.entryCount()).isZero();
        assertThat(t.lookup(0x1000)).isEqualTo(UnwindRule.INVALID);
    }

    @Test
    void fullDictionaryTurnsNewRulesIntoCountedUnsupported() throws Exception {
        RuleDictionary small = new RuleDictionary(5); // the 4 fixed rules + rsp+8
        CfiBytes program = new CfiBytes().u8(0x41).u8(0x0e).uleb(16).u8(0x41).u8(0x0e).uleb(24);
        UnwindTable t = UnwindTableBuilder.fromEhFrame(oneFde(program).buffer(), 0, null, 0, small);
        assertThat(t.lookup(0x1000)).hasToString("rsp+8");
        assertThat(t.lookup(0x1001)).isEqualTo(UnwindRule.UNSUPPORTED);
        assertThat(t.stats().rulesDropped()).isEqualTo(2);
        assertThat(small.size()).isEqualTo(5);
    }

    /** The first whole entries of a section (at least {@code minBytes}), then a zero terminator. */
    private static byte[] leadingEntries(byte[] section, int minBytes) {
        ByteBuffer b = ByteBuffer.wrap(section).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        while (at < minBytes) {
            at += 4 + b.getInt(at);
        }
        byte[] out = Arrays.copyOf(section, at + 4);
        Arrays.fill(out, at, at + 4, (byte) 0);
        return out;
    }

    /**
     * Random mutations of the first 6 KiB of a real .eh_frame (libluajit's; small so that thousands of runs fit
     * in a few seconds): bit flips, random words (lengths, pointers), cuts and
     * spliced copies. Fixed seed; bounded by iterations and wall time.
     */
    @Test
    void mutatedRealEhFrameOnlyEverThrowsCfiFormatException() {
        ElfSections elf = new ElfSections(Fixtures.LIBLUAJIT);
        byte[] whole = new byte[(int) elf.section(".eh_frame").size()];
        elf.bytes(".eh_frame").get(whole);
        byte[] original = leadingEntries(whole, 6144);
        long vaddr = elf.section(".eh_frame").addr();
        Random rnd = new Random(0x5eed_cf1L);
        RuleDictionary dict = new RuleDictionary(2048); // shared: also exercises the full-dictionary path
        long deadline = System.nanoTime() + 8_000_000_000L;
        int iterations = 0;
        int tables = 0;
        int rejected = 0;
        long skipped = 0;
        while (iterations < 3000 && System.nanoTime() < deadline) {
            byte[] b = mutate(original, rnd);
            iterations++;
            try {
                UnwindTable t = UnwindTableBuilder.fromEhFrame(ByteBuffer.wrap(b), vaddr, null, 0, dict);
                CfiAgainstReadelfTest.assertSorted(t);
                for (int k = 0; k < 16; k++) {
                    t.lookup(vaddr + rnd.nextInt(Math.max(1, b.length * 8)) - 0x1000);
                }
                tables++;
                skipped += t.stats().skippedEntries();
            } catch (CfiFormatException e) {
                assertThat(e.getMessage()).isNotBlank();
                rejected++;
            }
        }
        System.out.printf("[cfi-fuzz] %d mutations of %d bytes of libluajit .eh_frame: %d tables (%d entries skipped), %d"
                + " rejected, dictionary %d/%d%n", iterations, original.length, tables, skipped, rejected, dict.size(),
                dict.capacity());
        assertThat(iterations).isGreaterThan(500);
        assertThat(tables).isPositive();
        assertThat(rejected).isPositive();
    }

    private static byte[] mutate(byte[] original, Random rnd) {
        byte[] b = original.clone();
        switch (rnd.nextInt(5)) {
            case 0 -> {
                for (int i = 1 + rnd.nextInt(8); i > 0; i--) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> {
                int at = rnd.nextInt(b.length - 4) & ~3;
                ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(at, rnd.nextInt());
            }
            case 2 -> b = Arrays.copyOf(b, rnd.nextInt(b.length));
            case 3 -> {
                int from = rnd.nextInt(b.length);
                int to = rnd.nextInt(b.length);
                int len = rnd.nextInt(Math.min(64, b.length - Math.max(from, to)) + 1);
                System.arraycopy(original, from, b, to, len);
            }
            default -> {
                for (int i = 1 + rnd.nextInt(32); i > 0; i--) {
                    b[rnd.nextInt(b.length)] = (byte) List.of(0x0a, 0x0b, 0x0f, 0x10, 0x16, 0xff, 0x80, 0x00)
                            .get(rnd.nextInt(8)).intValue();
                }
            }
        }
        return b;
    }
}
