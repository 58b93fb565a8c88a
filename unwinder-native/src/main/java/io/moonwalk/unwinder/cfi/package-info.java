/**
 * Call frame information (.eh_frame, .debug_frame) parsed, evaluated into rows, and compiled into compact
 * sorted unwind tables that an in-kernel walker can binary-search.
 *
 * <p>Flow: {@link io.moonwalk.unwinder.cfi.CfiSection} frames the section into CIEs and FDEs,
 * {@link io.moonwalk.unwinder.cfi.CfaProgramEvaluator} runs each FDE's CFA program into
 * {@link io.moonwalk.unwinder.cfi.CfaRow}s, {@link io.moonwalk.unwinder.cfi.RuleCompiler} maps each
 * row to an {@link io.moonwalk.unwinder.cfi.UnwindRule}, and
 * {@link io.moonwalk.unwinder.cfi.UnwindTableBuilder} lays them out as an
 * {@link io.moonwalk.unwinder.cfi.UnwindTable} whose rules are interned in a shared
 * {@link io.moonwalk.unwinder.cfi.RuleDictionary}.
 *
 * <p>Per file: {@link io.moonwalk.unwinder.cfi.FileUnwindInfo} gathers an ELF file's .eh_frame, its own or
 * its separate debug file's .debug_frame ({@link io.moonwalk.elf.DebugFileLocator}) into one table.
 * For the kernel: {@link io.moonwalk.unwinder.cfi.UnwindTableCache} shares tables between processes by
 * {@link io.moonwalk.unwinder.cfi.FileIdentity}, refcounts them and places each in a range of the flat
 * entry array handed out by {@link io.moonwalk.unwinder.cfi.EntryRangeAllocator}.
 */
package io.moonwalk.unwinder.cfi;
