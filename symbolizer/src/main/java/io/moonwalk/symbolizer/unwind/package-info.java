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
 */
package io.moonwalk.symbolizer.unwind;
