package io.moonwalk.symbolizer.unwind;

import java.util.List;

/**
 * What happened while building one table; every dropped input is counted here.
 *
 * @param fdes FDEs that contributed rows
 * @param skippedEntries CIEs/FDEs dropped as malformed (section framing was intact)
 * @param emptyFdes FDEs with an empty address range (discarded functions)
 * @param overlappingFdes FDEs that started inside the previous one; the earlier FDE keeps the overlap
 * @param outOfRangeFdes FDEs more than 4 GiB above the table base (not representable in a u32 offset)
 * @param rulesDropped rows recorded as UNSUPPORTED because the {@link RuleDictionary} was full
 * @param unsupportedRows rows that compiled to UNSUPPORTED (CFI the kernel walker cannot follow)
 * @param headerFdeCount FDE count from .eh_frame_hdr, or -1 when no header was given
 * @param skipReasons the first few reasons for skipped entries
 */
public record UnwindTableStats(int fdes, int skippedEntries, int emptyFdes, int overlappingFdes, int outOfRangeFdes,
        int rulesDropped, int unsupportedRows, long headerFdeCount, List<String> skipReasons) {
}
