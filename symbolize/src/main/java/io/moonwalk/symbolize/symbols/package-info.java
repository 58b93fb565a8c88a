/** Native symbol lookup: per-file symbol tables, a bounded per-file cache, per-process address resolution. */
package io.moonwalk.symbolize.symbols;
