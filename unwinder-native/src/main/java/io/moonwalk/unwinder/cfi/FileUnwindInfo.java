package io.moonwalk.unwinder.cfi;

import io.moonwalk.elf.DebugFileLocator;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.Section;
import io.moonwalk.elf.Segment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The unwind table of one ELF file built from all the CFI it has: {@code .eh_frame} (checked against
 * {@code .eh_frame_hdr}) as the primary source, and {@code .debug_frame} from the file itself or else from its
 * separate debug file filling whatever .eh_frame leaves uncovered. Gaps of up to {@link #PADDING_GAP} bytes
 * between FDEs (alignment padding) get no INVALID entry.
 *
 * <p>A section that fails to parse is recorded in {@link #problems()} and the table is built from the others;
 * only when no section yields a single FDE does {@link #build} throw.
 */
public final class FileUnwindInfo {
    /** Largest gap between FDEs treated as padding: functions are 16-byte aligned, so padding is at most 15. */
    public static final int PADDING_GAP = 15;
    /** Largest CFI section we parse (libc's .eh_frame is 150 KiB; the largest binaries stay below 64 MiB). */
    public static final long MAX_SECTION_BYTES = 256L << 20;

    /** Where the table's rows came from. */
    public enum Source { EH_FRAME, DEBUG_FRAME, SEPARATE_DEBUG_FRAME }

    private final UnwindTable table;
    private final Set<Source> sources;
    private final Optional<Path> debugFile;
    private final long textStart;
    private final long textEnd;
    private final List<String> problems;

    private FileUnwindInfo(UnwindTable table, Set<Source> sources, Optional<Path> debugFile, long textStart,
            long textEnd, List<String> problems) {
        this.table = table;
        this.sources = sources;
        this.debugFile = debugFile;
        this.textStart = textStart;
        this.textEnd = textEnd;
        this.problems = problems;
    }

    /** With the system debug root {@code /usr/lib/debug} and {@link #PADDING_GAP}. */
    public static FileUnwindInfo build(ElfFile elf, Path elfPathForDebugLookup, RuleDictionary dictionary)
            throws IOException, CfiFormatException {
        return build(elf, elfPathForDebugLookup, dictionary, DebugFileLocator.system(), true);
    }

    /**
     * @param elf the file (not closed here)
     * @param elfPathForDebugLookup the file's path, for the .gnu_debuglink directories; null skips that search
     * @param locator where separate debug files are looked for; {@link DebugFileLocator#none()} skips the search
     * @param mergePadding give gaps of at most {@link #PADDING_GAP} bytes that hold only padding instructions
     *     (nops, int3, zero fill, as read from the file) the previous rule instead of an INVALID entry
     * @throws CfiFormatException the file has no usable CFI at all (the message lists why per section)
     * @throws ElfFormatException the ELF structures needed to find the CFI are broken
     * @throws IOException the separate debug file could not be read
     */
    public static FileUnwindInfo build(ElfFile elf, Path elfPathForDebugLookup, RuleDictionary dictionary,
            DebugFileLocator locator, boolean mergePadding) throws IOException, CfiFormatException {
        List<String> problems = new ArrayList<>();
        Set<Source> sources = EnumSet.noneOf(Source.class);
        List<CfiSection> primary = new ArrayList<>();
        List<CfiSection> fallback = new ArrayList<>();
        long hdrCount = -1;

        Optional<Section> eh = withData(elf, ".eh_frame");
        if (eh.isPresent()) {
            try {
                Optional<Section> hdrSection = withData(elf, ".eh_frame_hdr");
                if (hdrSection.isPresent()) {
                    EhFrameHdr hdr = EhFrameHdr.parse(SectionContents.read(hdrSection.get(), MAX_SECTION_BYTES),
                            hdrSection.get().addr());
                    if (hdr.ehFramePtr() != eh.get().addr()) {
                        throw new CfiFormatException(".eh_frame_hdr points at 0x" + Long.toHexString(hdr.ehFramePtr())
                                + " but .eh_frame is at 0x" + Long.toHexString(eh.get().addr()));
                    }
                    hdrCount = hdr.fdeCount();
                }
                primary.add(CfiSection.parse(CfiSection.Kind.EH_FRAME,
                        SectionContents.read(eh.get(), MAX_SECTION_BYTES), eh.get().addr(), PointerBases.NONE));
                sources.add(Source.EH_FRAME);
            } catch (CfiFormatException e) {
                problems.add(elf.description() + " .eh_frame: " + e.getMessage());
            }
        }

        Optional<Section> df = withData(elf, ".debug_frame");
        Optional<Path> debugFile = Optional.empty();
        if (df.isPresent()) {
            parseDebugFrame(df.get(), elf.description(), fallback, problems);
            if (!fallback.isEmpty()) {
                sources.add(Source.DEBUG_FRAME);
            }
        } else {
            DebugFileLocator.Result found = locator.locate(elf, elfPathForDebugLookup);
            for (String r : found.rejected()) {
                problems.add("debug file rejected: " + r);
            }
            if (found.path().isPresent()) {
                debugFile = found.path();
                try (ElfFile debug = ElfFile.open(found.path().get())) {
                    Optional<Section> sdf = withData(debug, ".debug_frame");
                    if (sdf.isPresent()) {
                        parseDebugFrame(sdf.get(), debug.description(), fallback, problems);
                        if (!fallback.isEmpty()) {
                            sources.add(Source.SEPARATE_DEBUG_FRAME);
                        }
                    }
                }
            }
        }

        if (primary.isEmpty() && fallback.isEmpty()) {
            throw new CfiFormatException(elf.description() + ": no usable CFI ("
                    + (problems.isEmpty() ? "no .eh_frame, no .debug_frame, no separate debug file with one"
                            : String.join("; ", problems)) + ")");
        }
        UnwindTable table = UnwindTableBuilder.build(primary, fallback, dictionary, hdrCount,
                mergePadding ? paddingIn(elf) : UnwindTableBuilder.PaddingOracle.NONE);
        if (table.entryCount() == 0) {
            throw new CfiFormatException(elf.description() + ": CFI sections " + sources + " hold no usable FDE "
                    + table.stats().skipReasons());
        }
        long[] text = executableRange(elf, table);
        return new FileUnwindInfo(table, Collections.unmodifiableSet(sources), debugFile, text[0], text[1],
                List.copyOf(problems));
    }

    private static void parseDebugFrame(Section s, String where, List<CfiSection> out, List<String> problems)
            throws ElfFormatException {
        try {
            ByteBuffer bytes = SectionContents.read(s, MAX_SECTION_BYTES);
            out.add(CfiSection.parse(CfiSection.Kind.DEBUG_FRAME, bytes, 0, PointerBases.NONE));
        } catch (CfiFormatException e) {
            problems.add(where + " .debug_frame: " + e.getMessage());
        }
    }

    /** Reads the gap's bytes from the executable section holding it; a gap across sections is never padding. */
    private static UnwindTableBuilder.PaddingOracle paddingIn(ElfFile elf) {
        // plain loops and a nested class: no stream or lambda bootstrap on a fresh JVM's first table build
        List<Section> code = new ArrayList<>();
        for (Section s : elf.sections()) {
            if (s.isExecutable() && s.hasFileData() && (s.flags() & Section.SHF_ALLOC) != 0) {
                code.add(s);
            }
        }
        return new PaddingInCode(code);
    }

    /** {@link #paddingIn}: gaps whose bytes, read from the executable section holding them, are padding. */
    private static final class PaddingInCode implements UnwindTableBuilder.PaddingOracle {
        private final List<Section> code;

        PaddingInCode(List<Section> code) {
            this.code = code;
        }

        @Override
        public boolean isPadding(long vaddr, long length) {
            if (length > PADDING_GAP) {
                return false;
            }
            for (Section s : code) {
                if (s.containsAddress(vaddr) && s.containsAddress(vaddr + length - 1)) {
                    try {
                        return X86Padding.isPadding(s.data(), (int) (vaddr - s.addr()), (int) length);
                    } catch (ElfFormatException | InternalError e) {
                        return false; // unreadable: keep the INVALID entry, which is always safe
                    }
                }
            }
            return false;
        }
    }

    private static Optional<Section> withData(ElfFile elf, String name) {
        Optional<Section> s = elf.section(name);
        return s.isPresent() && s.get().hasFileData() && s.get().size() > 0 ? s : Optional.empty();
    }

    /** The span of the executable PT_LOAD segments; the table's own span if the file has none. */
    private static long[] executableRange(ElfFile elf, UnwindTable table) {
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        for (Segment s : elf.segments()) {
            if (s.isLoad() && s.isExecutable() && s.memsz() > 0) {
                lo = Math.min(lo, s.vaddr());
                hi = Math.max(hi, s.vaddr() + s.memsz());
            }
        }
        if (lo >= hi) {
            lo = table.base();
            hi = table.base() + Integer.toUnsignedLong(table.pcOffset(table.entryCount() - 1));
        }
        return new long[] {lo, hi};
    }

    public UnwindTable table() {
        return table;
    }

    /** Which sections contributed. */
    public Set<Source> sources() {
        return sources;
    }

    /** The separate debug file that was found and verified (whether or not it had a .debug_frame). */
    public Optional<Path> debugFile() {
        return debugFile;
    }

    /** Lowest file vaddr of executable code (the {@code text_start} of the kernel's file table). */
    public long textStart() {
        return textStart;
    }

    /** End (exclusive) of executable code (the {@code text_end} of the kernel's file table). */
    public long textEnd() {
        return textEnd;
    }

    /** Sections or debug-file candidates that were present but unusable; the table is built without them. */
    public List<String> problems() {
        return problems;
    }
}
