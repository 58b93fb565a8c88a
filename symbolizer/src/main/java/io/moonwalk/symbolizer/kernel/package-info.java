/** Kernel symbol lookup from {@code /proc/kallsyms}. */
package io.moonwalk.symbolizer.kernel;
