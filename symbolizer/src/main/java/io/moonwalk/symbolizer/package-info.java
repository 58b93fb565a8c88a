/** Reading binaries and memory: ELF, symbols, unwind tables, process maps, kallsyms. */
package io.moonwalk.symbolizer;
