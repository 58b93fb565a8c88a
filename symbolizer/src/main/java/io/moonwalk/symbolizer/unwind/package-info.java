/**
 * Call frame information (.eh_frame, .debug_frame) parsed, evaluated into rows, and compiled into compact
 * sorted unwind tables that an in-kernel walker can binary-search.
 *
 * <p>Flow: {@link io.moonwalk.symbolizer.unwind.CfiSection} frames the section into CIEs and FDEs,
 * {@link io.moonwalk.symbolizer.unwind.CfaProgramEvaluator} runs each FDE's CFA program into
 * {@link io.moonwalk.symbolizer.unwind.CfaRow}s, {@link io.moonwalk.symbolizer.unwind.RuleCompiler} maps each
 * row to an {@link io.moonwalk.symbolizer.unwind.UnwindRule}, and
 * {@link io.moonwalk.symbolizer.unwind.UnwindTableBuilder} lays them out as an
 * {@link io.moonwalk.symbolizer.unwind.UnwindTable} whose rules are interned in a shared
 * {@link io.moonwalk.symbolizer.unwind.RuleDictionary}.
 *
 * <p>Per file: {@link io.moonwalk.symbolizer.unwind.FileUnwindInfo} gathers an ELF file's .eh_frame, its own or
 * its separate debug file's .debug_frame ({@link io.moonwalk.symbolizer.unwind.DebugFileLocator}) into one table.
 * For the kernel: {@link io.moonwalk.symbolizer.unwind.UnwindTableCache} shares tables between processes by
 * {@link io.moonwalk.symbolizer.unwind.FileIdentity}, refcounts them and places each in a range of the flat
 * entry array handed out by {@link io.moonwalk.symbolizer.unwind.EntryRangeAllocator}.
 */
package io.moonwalk.symbolizer.unwind;
