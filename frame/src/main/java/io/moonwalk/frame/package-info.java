/**
 * The frame model: what one symbolized stack frame carries (function, file, line, address, code mapping with
 * build ids, kind, JIT flag), shared by the symbolizers and interpreter plugins that make frames and by the
 * outputs (folded, HTML, pprof, OTLP) that render them. Outputs render from these fields; nothing parses a
 * rendered label back.
 */
package io.moonwalk.frame;
