package io.moonwalk.unwinder.cfi;

import java.util.List;

/**
 * What happened while building one table; every dropped input is counted here.
 *
 * @param fdes FDEs (or pieces of fallback FDEs) that contributed rows
 * @param skippedEntries CIEs/FDEs dropped as malformed (section framing was intact)
 * @param emptyFdes FDEs with an empty address range (discarded functions)
 * @param overlappingFdes FDEs that started inside the previous one (the earlier FDE keeps the overlap), and
 *     fallback FDEs clipped because a primary FDE covers part of their range
 * @param outOfRangeFdes FDEs more than 4 GiB above the table base (not representable in a u32 offset)
 * @param rulesDropped rows recorded as UNSUPPORTED because the {@link RuleDictionary} was full
 * @param unsupportedRows rows that compiled to UNSUPPORTED (CFI the kernel walker cannot follow)
 * @param headerFdeCount FDE count from .eh_frame_hdr, or -1 when no header was given
 * @param fallbackFdes pieces of fallback (.debug_frame) FDEs that filled addresses the primary CFI left open
 * @param paddingGapsBridged gaps between FDEs small enough to be function padding that got no INVALID entry
 * @param skipReasons the first few reasons for skipped entries
 */
public record UnwindTableStats(int fdes, int skippedEntries, int emptyFdes, int overlappingFdes, int outOfRangeFdes,
        int rulesDropped, int unsupportedRows, long headerFdeCount, int fallbackFdes, int paddingGapsBridged,
        List<String> skipReasons) {
}
