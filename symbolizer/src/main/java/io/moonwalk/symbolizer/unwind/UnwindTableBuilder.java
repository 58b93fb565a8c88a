package io.moonwalk.symbolizer.unwind;

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
     * From several parsed sections of one file (e.g. .eh_frame plus .debug_frame). Where FDEs overlap, the one
     * that starts first keeps the overlap; ties go to the earlier section in the list.
     */
    public static UnwindTable build(List<CfiSection> sections, RuleDictionary dictionary, long headerFdeCount) {
        return new UnwindTableBuilder(dictionary).assemble(sections, headerFdeCount);
    }

    private record Source(CfiSection section, Fde fde, int order) {
    }

    private UnwindTable assemble(List<CfiSection> sections, long headerFdeCount) {
        List<Source> all = new ArrayList<>();
        int skipped = 0;
        int empty = 0;
        int outOfRangeAbove = 0;
        List<String> reasons = new ArrayList<>();
        for (int s = 0; s < sections.size(); s++) {
            CfiSection sec = sections.get(s);
            skipped += sec.skippedEntries();
            reasons.addAll(sec.skipReasons());
            for (Fde f : sec.fdes()) {
                if (f.pcBegin() == f.pcEnd()) {
                    empty++;
                } else if (f.pcBegin() < 0) {
                    outOfRangeAbove++; // not a user-space address
                } else {
                    all.add(new Source(sec, f, s));
                }
            }
        }
        all.sort(Comparator.<Source>comparingLong(x -> x.fde().pcBegin())
                .thenComparingInt(Source::order));
        long base = all.isEmpty() ? 0 : all.get(0).fde().pcBegin();
        int used = 0;
        int overlapping = 0;
        int outOfRange = outOfRangeAbove;
        int dropped = 0;
        int unsupportedRows = 0;
        int unsupportedIdx = dictionary.intern(UnwindRule.UNSUPPORTED);
        int invalidIdx = dictionary.intern(UnwindRule.INVALID);
        long covered = base;
        for (Source src : all) {
            Fde fde = src.fde();
            if (fde.pcBegin() < base || fde.pcEnd() - base >= U32_SPAN) {
                outOfRange++;
                continue;
            }
            long start = fde.pcBegin();
            if (start < covered) {
                overlapping++;
                start = covered;
                if (start >= fde.pcEnd()) {
                    continue;
                }
            }
            List<CfaRow> rows;
            try {
                rows = src.section().evaluate(fde);
            } catch (CfiFormatException e) {
                skipped++;
                if (reasons.size() < 16) {
                    reasons.add("FDE at " + CfiReader.hex(fde.offset()) + ": " + e.getMessage());
                }
                continue;
            }
            if (start > covered && n > 0) {
                emit(covered - base, invalidIdx);
            }
            boolean signal = fde.cie().signalFrame();
            long emittedTo = start;
            for (int j = 0; j < rows.size(); j++) {
                CfaRow row = rows.get(j);
                long from = Math.max(row.location(), emittedTo);
                long to = Math.min(j + 1 < rows.size() ? rows.get(j + 1).location() : fde.pcEnd(), fde.pcEnd());
                if (from >= to) {
                    continue; // superseded by a later row at the same location, or outside the FDE
                }
                UnwindRule rule = RuleCompiler.compile(row, signal);
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
                continue; // no row survived clipping: leave the range to the gap logic
            }
            used++;
            covered = fde.pcEnd();
        }
        if (n > 0) {
            emit(covered - base, invalidIdx);
        }
        UnwindTableStats stats = new UnwindTableStats(used, skipped, empty, overlapping, outOfRange, dropped,
                unsupportedRows, headerFdeCount, List.copyOf(reasons));
        return new UnwindTable(base, Arrays.copyOf(pcs, n), Arrays.copyOf(idx, n), dictionary, stats);
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
