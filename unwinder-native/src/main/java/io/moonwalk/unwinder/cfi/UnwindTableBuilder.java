package io.moonwalk.unwinder.cfi;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Builds an {@link UnwindTable} from raw CFI section bytes. Takes bytes and addresses rather than an ELF file so
 * that it does not depend on any particular ELF reader.
 */
public final class UnwindTableBuilder {
    private static final long U32_SPAN = 1L << 32;

    private final RuleDictionary dictionary;
    private int[] pcs = new int[1024];
    private char[] idx = new char[1024];
    private int n;

    private UnwindTableBuilder(RuleDictionary dictionary) {
        this.dictionary = dictionary;
    }

    /**
     * From .eh_frame (and optionally .eh_frame_hdr, used to cross-check the address you passed).
     *
     * @param ehFrame section bytes, position..limit
     * @param ehFrameVaddr the section's sh_addr
     * @param ehFrameHdrOrNull .eh_frame_hdr bytes or null
     * @param hdrVaddr .eh_frame_hdr's sh_addr (ignored when the header is null)
     * @param dictionary shared rule dictionary the table indexes into
     * @throws CfiFormatException the section framing is broken, or the header points at a different .eh_frame
     */
    public static UnwindTable fromEhFrame(ByteBuffer ehFrame, long ehFrameVaddr, ByteBuffer ehFrameHdrOrNull,
            long hdrVaddr, RuleDictionary dictionary) throws CfiFormatException {
        long hdrCount = -1;
        if (ehFrameHdrOrNull != null) {
            EhFrameHdr hdr = EhFrameHdr.parse(ehFrameHdrOrNull, hdrVaddr);
            if (hdr.ehFramePtr() != ehFrameVaddr) {
                throw new CfiFormatException(".eh_frame_hdr points at .eh_frame 0x" + Long.toHexString(hdr.ehFramePtr())
                        + " but .eh_frame was given at 0x" + Long.toHexString(ehFrameVaddr)
                        + "; pass the sh_addr values of the same file");
            }
            hdrCount = hdr.fdeCount();
        }
        CfiSection section = CfiSection.parse(CfiSection.Kind.EH_FRAME, ehFrame, ehFrameVaddr, PointerBases.NONE);
        return build(List.of(section), dictionary, hdrCount);
    }

    /** From .debug_frame (in this file or a separate debug file; addresses are the same file vaddrs). */
    public static UnwindTable fromDebugFrame(ByteBuffer debugFrame, RuleDictionary dictionary)
            throws CfiFormatException {
        CfiSection section = CfiSection.parse(CfiSection.Kind.DEBUG_FRAME, debugFrame, 0, PointerBases.NONE);
        return build(List.of(section), dictionary, -1);
    }

    /**
     * From several parsed sections of one file. Where FDEs overlap, the one that starts first keeps the overlap;
     * ties go to the earlier section in the list. Every gap between FDEs becomes an INVALID entry.
     */
    public static UnwindTable build(List<CfiSection> sections, RuleDictionary dictionary, long headerFdeCount) {
        return build(sections, List.of(), dictionary, headerFdeCount, PaddingOracle.NONE);
    }

    /** Decides whether a gap between two FDEs is filler that may take the previous function's last rule. */
    @FunctionalInterface
    public interface PaddingOracle {
        /** Keeps every gap as an INVALID entry. */
        PaddingOracle NONE = new PaddingOracle() {
            @Override
            public boolean isPadding(long vaddr, long length) {
                return false;
            }
        };

        boolean isPadding(long vaddr, long length);
    }

    /**
     * From a file's preferred CFI ({@code primary}, normally .eh_frame) and CFI that only fills what the primary
     * sections leave uncovered ({@code fallback}, normally .debug_frame): a fallback FDE contributes only the
     * addresses no primary FDE covers, even where it starts earlier.
     *
     * @param padding gaps it accepts get no INVALID entry: alignment padding between functions runs no
     *     instruction and holds no return address, so the previous function's last rule may cover it, which
     *     saves the INVALID entry and often the next function's first entry too
     */
    public static UnwindTable build(List<CfiSection> primary, List<CfiSection> fallback, RuleDictionary dictionary,
            long headerFdeCount, PaddingOracle padding) {
        return new UnwindTableBuilder(dictionary).assemble(primary, fallback, headerFdeCount, padding);
    }

    /** One contiguous piece of an FDE that goes into the table: {@code [from, to)} within the FDE's range. */
    private record Source(CfiSection section, Fde fde, int order, long from, long to, boolean fallback) {
    }

    /*
     * A class, not Comparator.comparingLong(...).thenComparingInt(...): each lambda and method reference is spun
     * up through invokedynamic on first use, which is part of a fresh JVM's first table build (README "Overhead").
     */
    private static final Comparator<Source> BY_START_THEN_ORDER = new Comparator<>() {
        @Override
        public int compare(Source a, Source b) {
            int c = Long.compare(a.from(), b.from());
            return c != 0 ? c : Integer.compare(a.order(), b.order());
        }
    };

    private UnwindTable assemble(List<CfiSection> primary, List<CfiSection> fallback, long headerFdeCount,
            PaddingOracle padding) {
        List<Source> all = new ArrayList<>();
        int[] counts = new int[3]; // skipped, empty, out of range (negative start)
        List<String> reasons = new ArrayList<>();
        collect(primary, 0, false, all, counts, reasons);
        List<Source> fallbackFdes = new ArrayList<>();
        collect(fallback, primary.size(), true, fallbackFdes, counts, reasons);
        int overlapping = 0;
        if (!fallbackFdes.isEmpty()) {
            long[] covered = coveredRanges(all);
            for (Source f : fallbackFdes) {
                int before = all.size();
                addUncoveredPieces(f, covered, all);
                if (all.size() != before + 1 || all.get(before).from() != f.from() || all.get(before).to() != f.to()) {
                    overlapping++;
                }
            }
        }
        int skipped = counts[0];
        int empty = counts[1];
        all.sort(BY_START_THEN_ORDER);
        long base = all.isEmpty() ? 0 : all.get(0).from();
        int used = 0;
        int fallbackUsed = 0;
        int outOfRange = counts[2];
        int dropped = 0;
        int unsupportedRows = 0;
        int bridged = 0;
        int unsupportedIdx = dictionary.intern(UnwindRule.UNSUPPORTED);
        int invalidIdx = dictionary.intern(UnwindRule.INVALID);
        long covered = base;
        Fde lastEvaluated = null;
        List<CfaRow> lastRows = null;
        for (Source src : all) {
            Fde fde = src.fde();
            if (src.to() - base >= U32_SPAN) {
                outOfRange++;
                continue;
            }
            long start = src.from();
            if (start < covered) {
                overlapping++;
                start = covered;
                if (start >= src.to()) {
                    continue;
                }
            }
            List<CfaRow> rows;
            if (fde == lastEvaluated) {
                rows = lastRows; // the next uncovered piece of the same fallback FDE
            } else {
                try {
                    rows = src.section().evaluate(fde);
                } catch (CfiFormatException e) {
                    skipped++;
                    if (reasons.size() < 16) {
                        reasons.add("FDE at " + CfiReader.hex(fde.offset()) + ": " + e.getMessage());
                    }
                    continue;
                }
                lastEvaluated = fde;
                lastRows = rows;
            }
            boolean gap = start > covered && n > 0;
            boolean bridge = gap && padding.isPadding(covered, start - covered);
            if (bridge) {
                bridged++;
            } else if (gap) {
                emit(covered - base, invalidIdx);
            }
            boolean signal = fde.cie().signalFrame();
            long emittedTo = start;
            for (int j = 0; j < rows.size(); j++) {
                CfaRow row = rows.get(j);
                long from = Math.max(row.location(), emittedTo);
                long to = Math.min(j + 1 < rows.size() ? rows.get(j + 1).location() : src.to(), src.to());
                if (from >= to) {
                    continue; // superseded by a later row at the same location, or outside the piece
                }
                UnwindRule rule = RuleCompiler.compile(row, signal);
                if (rows.size() == 1 && rule.kind() == UnwindRule.Kind.CFA_RSP && rule.cfaOffset() > 8) {
                    // one row that is not a function entry (where CFA = rsp+8): code running in a frame that other
                    // code set up, e.g. an interpreter blob; it may call its own leaf subroutines
                    rule = new UnwindRule(UnwindRule.Kind.CFA_RSP_BLOB, rule.cfaOffset(), rule.rbpKind(),
                            rule.rbpOffset());
                }
                if (rule.kind() == UnwindRule.Kind.UNSUPPORTED) {
                    unsupportedRows++;
                }
                int ri = dictionary.intern(rule);
                if (ri < 0) {
                    dropped++;
                    ri = unsupportedIdx;
                }
                emit(from - base, ri);
                emittedTo = to;
            }
            if (emittedTo == start) {
                // No row survived clipping: leave the range to the gap logic.
                if (bridge) {
                    bridged--;
                }
                continue;
            }
            used++;
            if (src.fallback()) {
                fallbackUsed++;
            }
            covered = src.to();
        }
        if (n > 0) {
            emit(covered - base, invalidIdx);
        }
        UnwindTableStats stats = new UnwindTableStats(used, skipped, empty, overlapping, outOfRange, dropped,
                unsupportedRows, headerFdeCount, fallbackUsed, bridged, List.copyOf(reasons));
        return new UnwindTable(base, Arrays.copyOf(pcs, n), Arrays.copyOf(idx, n), dictionary, stats);
    }

    private static void collect(List<CfiSection> sections, int firstOrder, boolean fallback, List<Source> out,
            int[] counts, List<String> reasons) {
        for (int s = 0; s < sections.size(); s++) {
            CfiSection sec = sections.get(s);
            counts[0] += sec.skippedEntries();
            reasons.addAll(sec.skipReasons());
            for (Fde f : sec.fdes()) {
                if (f.pcBegin() == f.pcEnd()) {
                    counts[1]++;
                } else if (f.pcBegin() < 0) {
                    counts[2]++; // not a user-space address
                } else {
                    out.add(new Source(sec, f, firstOrder + s, f.pcBegin(), f.pcEnd(), fallback));
                }
            }
        }
    }

    /** The union of the sources' ranges as sorted, disjoint [start, end) pairs, flattened. */
    private static long[] coveredRanges(List<Source> sources) {
        List<Source> sorted = new ArrayList<>(sources);
        sorted.sort(BY_START_THEN_ORDER);
        long[] out = new long[sorted.size() * 2];
        int k = 0;
        for (Source s : sorted) {
            if (k > 0 && s.from() <= out[k - 1]) {
                out[k - 1] = Math.max(out[k - 1], s.to());
            } else {
                out[k++] = s.from();
                out[k++] = s.to();
            }
        }
        return Arrays.copyOf(out, k);
    }

    /** Adds the parts of {@code f} outside every covered range. */
    private static void addUncoveredPieces(Source f, long[] covered, List<Source> out) {
        // First covered range that ends after f starts: binary search over the range ends.
        int lo = 0;
        int hi = covered.length / 2;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (covered[2 * mid + 1] <= f.from()) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        long pos = f.from();
        for (int r = lo; r < covered.length / 2 && pos < f.to(); r++) {
            long cs = covered[2 * r];
            long ce = covered[2 * r + 1];
            if (cs >= f.to()) {
                break;
            }
            if (cs > pos) {
                out.add(new Source(f.section(), f.fde(), f.order(), pos, cs, true));
            }
            pos = Math.max(pos, ce);
        }
        if (pos < f.to()) {
            out.add(new Source(f.section(), f.fde(), f.order(), pos, f.to(), true));
        }
    }

    private void emit(long offset, int ruleIndex) {
        int pc = (int) offset;
        if (n > 0 && pcs[n - 1] == pc) {
            n--; // a later rule at the same address supersedes the earlier one
        }
        if (n > 0 && idx[n - 1] == ruleIndex) {
            return;
        }
        if (n == pcs.length) {
            pcs = Arrays.copyOf(pcs, n * 2);
            idx = Arrays.copyOf(idx, n * 2);
        }
        pcs[n] = pc;
        idx[n] = (char) ruleIndex;
        n++;
    }
}
