package io.moonwalk.unwinder.cfi;

import org.junit.jupiter.api.Tag;
import io.moonwalk.elf.DebugFileLocator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.elf.ElfFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link FileUnwindInfo} on real split binaries: every row readelf prints for the sections that should have
 * contributed must be what the merged table returns, whichever place the debug file was found in.
 */
@Tag("tools")
class FileUnwindInfoTest {
    private static final Path DEBUG_ROOT = Path.of("/usr/lib/debug");

    @TempDir
    Path tmp;

    /** The debug-file layouts gdb searches, each set up in a fresh directory tree. */
    enum Layout { SAME_DIR, DOT_DEBUG, DEBUG_ROOT_DIR, BUILD_ID }

    @ParameterizedTest
    @ValueSource(strings = {"SAME_DIR", "DOT_DEBUG", "DEBUG_ROOT_DIR", "BUILD_ID"})
    void separateDebugFrameIsFoundInEveryLayoutAndMatchesReadelf(String layoutName) throws Exception {
        Layout layout = Layout.valueOf(layoutName);
        SplitDebugFixtures f = SplitDebugFixtures.get();
        Path bin = tmp.resolve("opt/app/bin/prog");
        Files.createDirectories(bin.getParent());
        Files.copy(f.stripped, bin);
        Path root = tmp.resolve("debugroot");
        Path expected = switch (layout) {
            case SAME_DIR -> bin.resolveSibling("full.debug");
            case DOT_DEBUG -> bin.resolveSibling(".debug/full.debug");
            case DEBUG_ROOT_DIR -> root.resolve(tmp.getRoot().relativize(bin.getParent())).resolve("full.debug");
            case BUILD_ID -> {
                String id = buildIdOf(f.stripped);
                yield root.resolve(".build-id/" + id.substring(0, 2) + "/" + id.substring(2) + ".debug");
            }
        };
        Files.createDirectories(expected.getParent());
        Files.copy(f.fullDebug, expected);

        RuleDictionary dict = new RuleDictionary();
        FileUnwindInfo info;
        try (ElfFile elf = ElfFile.open(bin)) {
            info = FileUnwindInfo.build(elf, bin, dict, new DebugFileLocator(List.of(root)), false);
        }
        assertThat(info.debugFile()).contains(expected);
        assertThat(info.sources()).isEqualTo(EnumSet.of(FileUnwindInfo.Source.EH_FRAME,
                FileUnwindInfo.Source.SEPARATE_DEBUG_FRAME));
        assertThat(info.problems()).isEmpty();
        int rows = assertRowsMatch(info.table(), f.full, ".debug_frame");
        rows += assertRowsMatch(info.table(), f.stripped, ".eh_frame");
        assertThat(info.table().stats().fallbackFdes()).isEqualTo(fdeCount(f.full, ".debug_frame"));
        assertCoversExecutableSymbols(info, f.full);
        System.out.printf("[debug-file] %-15s %s rows checked=%d entries=%d%n", layout, info.sources(), rows,
                info.table().entryCount());
    }

    @Test
    void stripMakesTheSplitNecessary() throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        try (ElfFile elf = ElfFile.open(f.stripped)) {
            FileUnwindInfo info = FileUnwindInfo.build(elf, f.stripped, new RuleDictionary(), DebugFileLocator.none(),
                    false);
            assertThat(info.sources()).containsExactly(FileUnwindInfo.Source.EH_FRAME);
            long recurse = nmAddress(f.full, "recurse");
            assertThat(info.table().lookup(recurse)).as("no CFI for recurse without the debug file")
                    .isEqualTo(UnwindRule.INVALID);
        }
    }

    @Test
    void compressedDebugFrameIsInflated() throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        assertThat(ExternalTool.run("readelf", "-SW", f.zDebug.toString())).containsPattern(
                "\\.debug_frame\\s+PROGBITS\\s+\\S+\\s+\\S+\\s+\\S+\\s+\\S+\\s+C ");
        Path bin = tmp.resolve("zstripped");
        Files.copy(f.zstripped, bin);
        Files.copy(f.zDebug, tmp.resolve("zfull.debug"));
        try (ElfFile elf = ElfFile.open(bin)) {
            FileUnwindInfo info = FileUnwindInfo.build(elf, bin, new RuleDictionary(), DebugFileLocator.none(), false);
            assertThat(info.sources()).contains(FileUnwindInfo.Source.SEPARATE_DEBUG_FRAME);
            assertThat(assertRowsMatch(info.table(), f.zfull, ".debug_frame")).isPositive();
        }
    }

    @Test
    void debuglinkCrcMismatchIsRejected() throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        Path bin = tmp.resolve("prog");
        Files.copy(f.stripped, bin);
        Path debug = tmp.resolve("full.debug");
        Files.copy(f.fullDebug, debug);
        Files.write(debug, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND); // same name, other contents
        try (ElfFile elf = ElfFile.open(bin)) {
            FileUnwindInfo info = FileUnwindInfo.build(elf, bin, new RuleDictionary(), DebugFileLocator.none(), false);
            assertThat(info.debugFile()).isEmpty();
            assertThat(info.sources()).containsExactly(FileUnwindInfo.Source.EH_FRAME);
            assertThat(info.problems()).anyMatch(p -> p.contains("CRC32") && p.contains(debug.toString()));
        }
    }

    @Test
    void buildIdCandidateWithAnotherBuildIdIsRejected() throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        String id = buildIdOf(f.stripped);
        Path root = tmp.resolve("root");
        Path wrong = root.resolve(".build-id/" + id.substring(0, 2) + "/" + id.substring(2) + ".debug");
        Files.createDirectories(wrong.getParent());
        Files.copy(f.zDebug, wrong); // a real debug file, but of a different build
        try (ElfFile elf = ElfFile.open(f.stripped)) {
            DebugFileLocator.Result r = new DebugFileLocator(List.of(root)).locate(elf, null);
            assertThat(r.path()).isEmpty();
            assertThat(r.rejected()).singleElement().asString().contains("expected " + id);
        }
    }

    @Test
    void mixedUnitsNeedBothSectionsAndMatchReadelf() throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        try (ElfFile elf = ElfFile.open(f.mixed)) {
            FileUnwindInfo info = FileUnwindInfo.build(elf, f.mixed, new RuleDictionary(), DebugFileLocator.none(),
                    false);
            assertThat(info.sources()).isEqualTo(EnumSet.of(FileUnwindInfo.Source.EH_FRAME,
                    FileUnwindInfo.Source.DEBUG_FRAME));
            assertRowsMatch(info.table(), f.mixed, ".eh_frame");
            assertRowsMatch(info.table(), f.mixed, ".debug_frame");
            assertThat(info.table().lookup(nmAddress(f.mixed, "second_mix"))).isNotEqualTo(UnwindRule.INVALID);
            assertThat(info.table().lookup(nmAddress(f.mixed, "recurse"))).isNotEqualTo(UnwindRule.INVALID);
            assertCoversExecutableSymbols(info, f.mixed);
        }
    }

    @Test
    void whereBothSectionsDescribeAFunctionEhFrameIsUsed() throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        RuleDictionary dict = new RuleDictionary();
        try (ElfFile elf = ElfFile.open(f.both)) {
            FileUnwindInfo info = FileUnwindInfo.build(elf, f.both, dict, DebugFileLocator.none(), false);
            assertThat(info.sources()).contains(FileUnwindInfo.Source.EH_FRAME, FileUnwindInfo.Source.DEBUG_FRAME);
            assertThat(info.table().stats().fallbackFdes()).as("debug_frame adds nothing .eh_frame lacks").isZero();
            assertThat(info.table().stats().overlappingFdes()).isEqualTo(fdeCount(f.both, ".debug_frame"));
            UnwindTable ehOnly = new ElfSections(f.both).ehFrameTable(dict);
            assertSameTable(info.table(), ehOnly);
        }
    }

    @Test
    void fallbackOnlyFillsWhatThePrimaryLeavesOpen() throws Exception {
        // .eh_frame: [0x1000, 0x1100) with rsp+16 from 0x1001; .debug_frame: [0x0ff0, 0x1200) with rsp+32 from
        // 0x0ff4. The fallback must contribute [0x0ff0, 0x1000) and [0x1100, 0x1200) only.
        CfiBytes eh = new CfiBytes().entry(CfiBytes.ehCie("zR", new byte[] {0x03}));
        int fdeAt = eh.offset();
        eh.entry(new CfiBytes().u32(fdeAt + 4).u32(0x1000).u32(0x100).uleb(0).u8(0x41).u8(0x0e).uleb(16));
        CfiBytes cie = new CfiBytes().u32(0xffff_ffffL).u8(1).str("").uleb(1).sleb(-8).u8(16);
        CfiBytes.x86InitialInstructions(cie);
        CfiBytes df = new CfiBytes().entry(cie);
        df.entry(new CfiBytes().u32(0).u64(0x0ff0).u64(0x210).u8(0x44).u8(0x0e).uleb(32));
        CfiSection primary = CfiSection.parse(CfiSection.Kind.EH_FRAME, eh.buffer(), 0, PointerBases.NONE);
        CfiSection fallback = CfiSection.parse(CfiSection.Kind.DEBUG_FRAME, df.buffer(), 0, PointerBases.NONE);
        UnwindTable t = UnwindTableBuilder.build(List.of(primary), List.of(fallback), new RuleDictionary(), -1,
                UnwindTableBuilder.PaddingOracle.NONE);
        assertThat(t.lookup(0x0fef)).isEqualTo(UnwindRule.INVALID);
        assertThat(t.lookup(0x0ff0)).hasToString("rsp+8");
        assertThat(t.lookup(0x0ff4)).hasToString("rsp+32");
        assertThat(t.lookup(0x0fff)).hasToString("rsp+32");
        assertThat(t.lookup(0x1000)).hasToString("rsp+8");
        assertThat(t.lookup(0x1001)).hasToString("rsp+16");
        assertThat(t.lookup(0x10ff)).hasToString("rsp+16");
        assertThat(t.lookup(0x1100)).as("the fallback's row in effect at 0x1100").hasToString("rsp+32");
        assertThat(t.lookup(0x11ff)).hasToString("rsp+32");
        assertThat(t.lookup(0x1200)).isEqualTo(UnwindRule.INVALID);
        assertThat(t.stats().fallbackFdes()).isEqualTo(2);
    }

    @Test
    void libcDebugFileIsFoundByBuildIdAndPaddingGapsAreMerged() throws Exception {
        Path libc = Fixtures.LIBC;
        String id = buildIdOf(libc);
        Path expected = DEBUG_ROOT.resolve(".build-id/" + id.substring(0, 2) + "/" + id.substring(2) + ".debug");
        boolean haveDbg = Files.isRegularFile(expected);
        RuleDictionary dict = new RuleDictionary();
        FileUnwindInfo exact;
        FileUnwindInfo merged;
        try (ElfFile elf = ElfFile.open(libc)) {
            exact = FileUnwindInfo.build(elf, libc, dict, DebugFileLocator.system(), false);
            merged = FileUnwindInfo.build(elf, libc, dict);
        }
        if (haveDbg) {
            assertThat(merged.debugFile()).contains(expected);
            // Debian's libc6-dbg carries no .debug_frame (readelf decides), so the debug file adds no rows.
            boolean debugHasFrames = ExternalTool.run("readelf", "-SW", expected.toString()).contains(".debug_frame");
            assertThat(merged.sources().contains(FileUnwindInfo.Source.SEPARATE_DEBUG_FRAME)).isEqualTo(debugHasFrames);
        } else {
            System.out.println("[padding] libc6-dbg not installed: build-id lookup not exercised on libc");
        }
        assertRowsMatch(merged.table(), libc, ".eh_frame");
        UnwindTable a = exact.table();
        UnwindTable b = merged.table();
        // Every INVALID run of the exact table of <= 15 bytes that objdump decodes as nothing but padding takes the
        // previous rule once merged; runs holding real code, and longer runs, stay INVALID. No FDE row may change
        // (checked above against readelf).
        java.util.TreeMap<Long, Long> smallRuns = new java.util.TreeMap<>();
        for (int i = 0; i + 1 < a.entryCount(); i++) {
            long len = Integer.toUnsignedLong(a.pcOffset(i + 1)) - Integer.toUnsignedLong(a.pcOffset(i));
            long from = a.base() + Integer.toUnsignedLong(a.pcOffset(i));
            if (a.rule(i) != UnwindRule.INVALID) {
                continue;
            }
            if (len <= FileUnwindInfo.PADDING_GAP) {
                smallRuns.put(from, from + len);
            } else {
                assertThat(b.lookup(from)).as("real gap at %x", from).isEqualTo(UnwindRule.INVALID);
            }
        }
        Map<Long, Boolean> padding = objdumpPadding(libc, smallRuns);
        int bridged = 0;
        List<String> codeGaps = new ArrayList<>();
        for (Map.Entry<Long, Long> run : smallRuns.entrySet()) {
            long from = run.getKey();
            if (padding.get(from)) {
                bridged++;
                assertThat(b.lookup(from)).as("padding at %x", from).isEqualTo(a.lookup(from - 1));
                assertThat(b.lookup(run.getValue() - 1)).as("padding end at %x", from).isEqualTo(a.lookup(from - 1));
            } else {
                codeGaps.add(Long.toHexString(from));
                assertThat(b.lookup(from)).as("code without CFI at %x", from).isEqualTo(UnwindRule.INVALID);
            }
        }
        assertThat(b.stats().paddingGapsBridged()).isEqualTo(bridged).isPositive();
        assertThat(b.entryCount()).isLessThan(a.entryCount());
        System.out.printf("[padding] libc.so.6: small gaps holding code (kept INVALID): %s%n", codeGaps);
        int smallGaps = bridged;
        System.out.printf("[padding] libc.so.6: %d entries exact, %d with gaps <= %d bytes merged (%d gaps, -%d "
                + "entries, -%.1f%%, -%d bytes at %d B/entry)%n", a.entryCount(), b.entryCount(),
                FileUnwindInfo.PADDING_GAP, smallGaps, a.entryCount() - b.entryCount(),
                100.0 * (a.entryCount() - b.entryCount()) / a.entryCount(),
                (long) (a.entryCount() - b.entryCount()) * 8, 8);
    }

    @Test
    void fileWithoutAnyCfiIsAnErrorNamingTheFile() throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        try (ElfFile elf = ElfFile.open(f.noCfi)) {
            assertThatThrownBy(() -> FileUnwindInfo.build(elf, f.noCfi, new RuleDictionary(), DebugFileLocator.none(),
                    true))
                    .isInstanceOf(CfiFormatException.class)
                    .hasMessageContaining(f.noCfi.toString()).hasMessageContaining("no usable CFI");
        }
    }

    @Test
    void hostileDebuglinkNamesAreNotFollowed() throws Exception {
        SplitDebugFixtures f = SplitDebugFixtures.get();
        Path bin = tmp.resolve("a/b/prog");
        Files.createDirectories(bin.getParent());
        SplitDebugFixtures.run("objcopy", "--remove-section=.gnu_debuglink", f.stripped.toString(), bin.toString());
        Path evil = tmp.resolve("a/evil.debug");
        Files.copy(f.fullDebug, evil);
        Path linkName = tmp.resolve("a/b/..");
        // objcopy stores the basename only, so write a name with a slash into the section by hand.
        Path section = tmp.resolve("link.bin");
        byte[] name = "../evil.debug".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] body = new byte[(name.length + 1 + 3) / 4 * 4 + 4];
        System.arraycopy(name, 0, body, 0, name.length);
        int crc = DebugFileLocator.crc32(evil);
        for (int i = 0; i < 4; i++) {
            body[body.length - 4 + i] = (byte) (crc >>> (8 * i));
        }
        Files.write(section, body);
        Path linked = tmp.resolve("a/b/prog2");
        SplitDebugFixtures.run("objcopy", "--add-section", ".gnu_debuglink=" + section, bin.toString(),
                linked.toString());
        assertThat(linkName).isNotNull();
        try (ElfFile elf = ElfFile.open(linked)) {
            FileUnwindInfo info = FileUnwindInfo.build(elf, linked, new RuleDictionary(), DebugFileLocator.none(), false);
            assertThat(info.debugFile()).isEmpty();
            assertThat(info.problems()).anyMatch(p -> p.contains("not a plain file name"));
        }
    }

    // ---- ground truth helpers -------------------------------------------------------------------------------

    /** Every row readelf prints for {@code section} of {@code file} is what {@code table} returns; the row count. */
    static int assertRowsMatch(UnwindTable table, Path file, String section) {
        Map<String, List<ReadelfFrames.Entry>> all = ReadelfFrames.of(file);
        List<ReadelfFrames.Entry> entries = all.get(section);
        assertThat(entries).as("readelf shows %s in %s", section, file).isNotNull().isNotEmpty();
        Map<Integer, ReadelfFrames.Entry> cies = new java.util.HashMap<>();
        entries.stream().filter(ReadelfFrames.Entry::cie).forEach(e -> cies.put(e.offset(), e));
        List<String> bad = new ArrayList<>();
        int rows = 0;
        for (ReadelfFrames.Entry e : entries) {
            if (e.cie() || e.pcBegin() == e.pcEnd()) {
                continue;
            }
            boolean signal = cies.get(e.cieOffset()).augmentation().contains("S");
            List<ReadelfFrames.Row> fdeRows = e.rows().isEmpty()
                    ? List.of(new ReadelfFrames.Row(e.pcBegin(), cies.get(e.cieOffset()).rows().getLast().cells()))
                    : ReadelfFrames.effective(e.rows());
            for (ReadelfFrames.Row r : fdeRows) {
                if (r.loc() >= e.pcEnd() || r.cell("CFA").equals("exp")) {
                    continue; // PLT expressions are covered by CfiAgainstReadelfTest
                }
                rows++;
                UnwindRule want = CfiAgainstReadelfTest.blobIfSingleRow(CfiAgainstReadelfTest.expectedRule(r, signal),
                        fdeRows.stream().filter(x -> x.loc() < e.pcEnd()).count());
                UnwindRule got = table.lookup(r.loc());
                if (!got.equals(want) && bad.size() < 10) {
                    bad.add(String.format("%s %s FDE %x at %x: got %s, readelf %s", file.getFileName(), section,
                            e.offset(), r.loc(), got, ReadelfNotation.row(r)));
                }
            }
        }
        assertThat(bad).isEmpty();
        return rows;
    }

    private static int fdeCount(Path file, String section) {
        return (int) ReadelfFrames.of(file).get(section).stream().filter(e -> !e.cie() && e.pcBegin() != e.pcEnd())
                .count();
    }

    private static final Set<String> FIXTURE_FUNCTIONS = Set.of("leaf", "with_alloca", "recurse", "main", "_start",
            "second_mix", "second_outer");

    /** Every fixture function nm lists in the text of {@code unstripped} starts at a PC the table has a rule for. */
    private static void assertCoversExecutableSymbols(FileUnwindInfo info, Path unstripped) {
        Pattern line = Pattern.compile("^([0-9a-f]+) [Tt] (\\S+)$");
        List<String> uncovered = new ArrayList<>();
        int checked = 0;
        for (String l : ExternalTool.run("nm", unstripped.toString()).split("\n")) {
            Matcher m = line.matcher(l.trim());
            if (!m.matches() || !FIXTURE_FUNCTIONS.contains(m.group(2))) {
                continue; // crt pieces (_init, frame_dummy, ...) ship without CFI on Debian
            }
            long addr = Long.parseUnsignedLong(m.group(1), 16);
            checked++;
            if (info.table().lookup(addr) == UnwindRule.INVALID) {
                uncovered.add(m.group(2) + "@" + Long.toHexString(addr));
            }
            assertThat(addr).isBetween(info.textStart(), info.textEnd() - 1);
        }
        assertThat(checked).isPositive();
        assertThat(uncovered).isEmpty();
    }

    private static void assertSameTable(UnwindTable x, UnwindTable y) {
        assertThat(x.entryCount()).isEqualTo(y.entryCount());
        assertThat(x.base()).isEqualTo(y.base());
        for (int i = 0; i < x.entryCount(); i++) {
            assertThat(x.pcOffset(i)).isEqualTo(y.pcOffset(i));
            assertThat(x.rule(i)).isEqualTo(y.rule(i));
        }
    }

    static String buildIdOf(Path file) {
        Matcher m = Pattern.compile("Build ID: ([0-9a-f]+)").matcher(ExternalTool.run("readelf", "-n", file.toString()));
        assertThat(m.find()).as("readelf -n shows a build-id for %s", file).isTrue();
        return m.group(1);
    }

    static long nmAddress(Path file, String symbol) {
        for (String l : ExternalTool.run("nm", file.toString()).split("\n")) {
            String[] t = l.trim().split("\\s+");
            if (t.length == 3 && t[2].equals(symbol)) {
                return Long.parseUnsignedLong(t[0], 16);
            }
        }
        throw new AssertionError(symbol + " not in nm " + file);
    }

    private static final Pattern INSN = Pattern.compile("^\\s+([0-9a-f]+):\\t[^\\t]*\\t?(.*)$");
    private static final Pattern PADDING_INSN = Pattern.compile(
            "(nop.*|int3|xchg\\s+%ax,%ax|data16.*|cs nopw.*|add\\s+%al,\\(%rax\\)|)");

    /** For each run {@code [from, to)}: whether every instruction objdump decodes starting in it is padding. */
    private static Map<Long, Boolean> objdumpPadding(Path file, java.util.TreeMap<Long, Long> runs) {
        Map<Long, Boolean> out = new java.util.HashMap<>();
        runs.keySet().forEach(k -> out.put(k, true));
        Map<Long, Integer> seen = new java.util.HashMap<>();
        ExternalTool.run("objdump", "-d", file.toString()).lines().forEach(l -> {
            Matcher m = INSN.matcher(l);
            if (!m.matches()) {
                return;
            }
            long addr = Long.parseUnsignedLong(m.group(1), 16);
            Map.Entry<Long, Long> run = runs.floorEntry(addr);
            if (run == null || addr >= run.getValue()) {
                return;
            }
            seen.merge(run.getKey(), 1, Integer::sum);
            if (!PADDING_INSN.matcher(m.group(2).trim()).matches()) {
                out.put(run.getKey(), false);
            }
        });
        for (Long k : runs.keySet()) {
            if (!seen.containsKey(k)) {
                out.put(k, false); // objdump decoded nothing there
            }
        }
        return out;
    }
}
