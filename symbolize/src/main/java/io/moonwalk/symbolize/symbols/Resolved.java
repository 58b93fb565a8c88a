package io.moonwalk.symbolize.symbols;

import io.moonwalk.process.Mapping;

/**
 * The result of resolving one runtime address.
 *
 * @param symbol       the function name, or null when the file has no symbol covering the address
 *                     (stripped, unreadable, or between functions)
 * @param symbolOffset bytes from the symbol's start to the looked-up address (0 when symbol is null)
 * @param module       the mapped file's name, e.g. {@code libc.so.6}, or {@code [vdso]}
 * @param modulePath   the path as the process maps it (without {@code " (deleted)"})
 * @param fileOffset   the address's offset in the file, for a {@code module+0xoffset} fallback
 * @param elfAddress   the address in the ELF's own virtual address space (what {@code nm} and
 *                     {@code addr2line} use), or -1 when the file could not be read
 * @param buildId      the GNU build ID in hex, or null
 * @param htlHash      the OpenTelemetry {@code process.executable.build_id.htlhash} of the file, or null
 * @param mapping      the process mapping the address lies in (start, end and file offset, for the mappings of
 *                     pprof and OTLP)
 */
public record Resolved(String symbol, long symbolOffset, String module, String modulePath, long fileOffset,
                       long elfAddress, String buildId, String htlHash, Mapping mapping) {
}
