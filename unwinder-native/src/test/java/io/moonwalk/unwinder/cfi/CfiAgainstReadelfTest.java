package io.moonwalk.unwinder.cfi;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every FDE row we evaluate is compared with binutils' {@code readelf --debug-dump=frames-interp}, and every
 * table lookup at a row's location with the rule readelf's cells imply.
 */
@Tag("tools")
class CfiAgainstReadelfTest {
    private static final Pattern REG_PLUS = Pattern.compile("^(rsp|rbp)([+-]\\d+)$");
    private static final Pattern SAVED = Pattern.compile("^c(-?\\+?\\d+)$");

    static Stream<Arguments> binaries() {
        return Stream.of(
                Arguments.of("libc.so.6", (Supplier<Path>) () -> Fixtures.LIBC, ".eh_frame"),
                Arguments.of("libluajit-5.1.so.2", (Supplier<Path>) () -> Fixtures.LIBLUAJIT, ".eh_frame"),
                Arguments.of("nginx", (Supplier<Path>) () -> Fixtures.NGINX, ".eh_frame"),
                Arguments.of("gcc -O2 -fomit-frame-pointer", (Supplier<Path>) Fixtures::omitFramePointer, ".eh_frame"),
                Arguments.of("gcc -O2 -fno-omit-frame-pointer", (Supplier<Path>) Fixtures::framePointer, ".eh_frame"),
                Arguments.of("gcc -g -fno-asynchronous-unwind-tables", (Supplier<Path>) Fixtures::debugFrame,
                        ".debug_frame"),
                Arguments.of("gcc -g -fno-asynchronous-unwind-tables (crt .eh_frame)",
                        (Supplier<Path>) Fixtures::debugFrame, ".eh_frame"));
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("binaries")
    void rowsAndLookupsMatchReadelf(String label, Supplier<Path> binary, String sectionName) throws Exception {
        Path file = binary.get();
        ElfSections elf = new ElfSections(file);
        List<ReadelfFrames.Entry> truth = ReadelfFrames.of(file).get(sectionName);
        assertThat(truth).as("readelf shows %s in %s", sectionName, file).isNotNull().isNotEmpty();

        boolean eh = sectionName.equals(".eh_frame");
        CfiSection section = CfiSection.parse(eh ? CfiSection.Kind.EH_FRAME : CfiSection.Kind.DEBUG_FRAME,
                elf.bytes(sectionName), eh ? elf.section(sectionName).addr() : 0, PointerBases.NONE);
        assertThat(section.skippedEntries()).as("skipped: %s", section.skipReasons()).isZero();

        Map<Integer, ReadelfFrames.Entry> cies = new HashMap<>();
        List<ReadelfFrames.Entry> truthFdes = new ArrayList<>();
        for (ReadelfFrames.Entry e : truth) {
            if (e.cie()) {
                cies.put(e.offset(), e);
            } else {
                truthFdes.add(e);
            }
        }
        assertThat(section.cieCount()).isEqualTo(cies.size());
        Map<Integer, Fde> ours = new HashMap<>();
        for (Fde f : section.fdes()) {
            ours.put(f.offset(), f);
        }
        assertThat(ours.keySet()).as("FDE offsets").isEqualTo(offsets(truthFdes));

        List<String> mismatches = new ArrayList<>();
        int rowsCompared = 0;
        int expRows = 0;
        for (ReadelfFrames.Entry t : truthFdes) {
            Fde f = ours.get(t.offset());
            if (f.pcBegin() != t.pcBegin() || f.pcEnd() != t.pcEnd() || f.cie().offset() != t.cieOffset()) {
                mismatches.add(String.format("FDE %x range/cie %x..%x cie %x, readelf %x..%x cie %x", t.offset(),
                        f.pcBegin(), f.pcEnd(), f.cie().offset(), t.pcBegin(), t.pcEnd(), t.cieOffset()));
                continue;
            }
            List<String> mine = effective(section.evaluate(f)).stream().map(ReadelfNotation::row).toList();
            List<String> theirs = expectedRows(t, cies).stream().map(ReadelfNotation::row).toList();
            rowsCompared += theirs.size();
            if (!mine.equals(theirs)) {
                mismatches.add(String.format("FDE %x:%n  ours   %s%n  readelf %s", t.offset(), mine, theirs));
            }
        }
        assertThat(mismatches).as("%s %s: rows differing from readelf", label, sectionName).isEmpty();
        assertThat(rowsCompared).isGreaterThanOrEqualTo(truthFdes.size());

        RuleDictionary dict = new RuleDictionary();
        UnwindTable table = eh ? elf.ehFrameTable(dict) : UnwindTableBuilder.fromDebugFrame(elf.bytes(sectionName),
                dict);
        assertSorted(table);
        List<ReadelfFrames.Entry> sorted = new ArrayList<>(truthFdes);
        sorted.removeIf(e -> e.pcBegin() == e.pcEnd());
        sorted.sort(Comparator.comparingLong(ReadelfFrames.Entry::pcBegin));
        long coveredTo = Long.MIN_VALUE;
        int lookups = 0;
        int gaps = 0;
        for (ReadelfFrames.Entry t : sorted) {
            if (t.pcBegin() < coveredTo) {
                coveredTo = Math.max(coveredTo, t.pcEnd());
                continue; // overlapped: the earlier FDE owns these addresses
            }
            if (coveredTo != Long.MIN_VALUE && t.pcBegin() > coveredTo) {
                gaps++;
                assertThat(table.lookup(coveredTo)).as("gap at %x", coveredTo).isEqualTo(UnwindRule.INVALID);
                assertThat(table.lookup(t.pcBegin() - 1)).as("gap end %x", t.pcBegin() - 1)
                        .isEqualTo(UnwindRule.INVALID);
            }
            coveredTo = t.pcEnd();
            boolean signal = cies.get(t.cieOffset()).augmentation().contains("S");
            List<ReadelfFrames.Row> fdeRows = expectedRows(t, cies);
            long inFde = fdeRows.stream().filter(x -> x.loc() < t.pcEnd()).count();
            for (ReadelfFrames.Row row : fdeRows) {
                if (row.loc() >= t.pcEnd()) {
                    continue;
                }
                UnwindRule got = table.lookup(row.loc());
                String why = String.format("%s FDE %x at %x: readelf %s", label, t.offset(), row.loc(),
                        ReadelfNotation.row(row));
                if (row.cell("CFA").equals("exp") && !signal) {
                    expRows++;
                    assertThat(got.kind()).as(why).isIn(UnwindRule.Kind.PLT, UnwindRule.Kind.UNSUPPORTED);
                } else {
                    assertThat(got).as(why).isEqualTo(blobIfSingleRow(expectedRule(row, signal), inFde));
                }
                lookups++;
            }
        }
        assertThat(table.lookup(table.base() - 1)).isEqualTo(UnwindRule.INVALID);
        assertThat(table.lookup(coveredTo)).isEqualTo(UnwindRule.INVALID);
        System.out.printf("[cfi] %-55s %-12s FDEs=%d rows=%d lookups=%d expRows=%d gaps=%d entries=%d%n", label,
                sectionName, truthFdes.size(), rowsCompared, lookups, expRows, gaps, table.entryCount());
    }

    private static Set<Integer> offsets(List<ReadelfFrames.Entry> entries) {
        Set<Integer> s = new HashSet<>();
        entries.forEach(e -> s.add(e.offset()));
        return s;
    }

    /** readelf prints no rows for an FDE whose program is only padding; the CIE's row then applies. */
    private static List<ReadelfFrames.Row> expectedRows(ReadelfFrames.Entry fde, Map<Integer, ReadelfFrames.Entry> cies) {
        if (!fde.rows().isEmpty()) {
            return ReadelfFrames.effective(fde.rows());
        }
        ReadelfFrames.Row cieRow = cies.get(fde.cieOffset()).rows().getLast();
        return List.of(new ReadelfFrames.Row(fde.pcBegin(), cieRow.cells()));
    }

    private static List<CfaRow> effective(List<CfaRow> rows) {
        List<CfaRow> out = new ArrayList<>();
        for (CfaRow r : rows) {
            if (!out.isEmpty() && out.getLast().location() == r.location()) {
                out.set(out.size() - 1, r);
            } else {
                out.add(r);
            }
        }
        return out;
    }

    /** The rule readelf's cells call for, derived independently of our evaluator. */
    static UnwindRule expectedRule(ReadelfFrames.Row row, boolean signal) {
        if (signal) {
            return UnwindRule.SIGNAL;
        }
        String ra = row.cell("ra");
        if (ra.equals("u")) {
            return UnwindRule.END;
        }
        Matcher cfa = REG_PLUS.matcher(row.cell("CFA"));
        if (!ra.equals("c-8") || !cfa.matches()) {
            return UnwindRule.UNSUPPORTED;
        }
        UnwindRule.Kind kind = cfa.group(1).equals("rsp") ? UnwindRule.Kind.CFA_RSP : UnwindRule.Kind.CFA_RBP;
        int off = Integer.parseInt(cfa.group(2));
        String rbp = row.cell("rbp");
        Matcher saved = SAVED.matcher(rbp);
        if (rbp.equals("u") || rbp.equals("s")) {
            return new UnwindRule(kind, off, UnwindRule.RbpKind.UNCHANGED, (short) 0);
        }
        if (saved.matches()) {
            return new UnwindRule(kind, off, UnwindRule.RbpKind.SAVED_AT_CFA, Short.parseShort(saved.group(1)));
        }
        return new UnwindRule(kind, off, UnwindRule.RbpKind.LOST, (short) 0);
    }

    static void assertSorted(UnwindTable t) {
        for (int i = 1; i < t.entryCount(); i++) {
            assertThat(Integer.compareUnsigned(t.pcOffset(i - 1), t.pcOffset(i))).as("entry %d sorted", i)
                    .isNegative();
            assertThat(t.ruleIndex(i - 1)).as("entry %d merged", i).isNotEqualTo(t.ruleIndex(i));
        }
        if (t.entryCount() > 0) {
            assertThat(t.rule(t.entryCount() - 1)).isEqualTo(UnwindRule.INVALID);
        }
    }

    /**
     * The builder marks the rule of a one-row FDE whose CFA is rsp+N, N > 8 (code running in a frame set up elsewhere:
     * LuaJIT's interpreter, gcc's .cold parts) as {@link UnwindRule.Kind#CFA_RSP_BLOB}.
     */
    static UnwindRule blobIfSingleRow(UnwindRule r, long rowsInFde) {
        return rowsInFde == 1 && r.kind() == UnwindRule.Kind.CFA_RSP && r.cfaOffset() > 8
                ? new UnwindRule(UnwindRule.Kind.CFA_RSP_BLOB, r.cfaOffset(), r.rbpKind(), r.rbpOffset())
                : r;
    }
}
