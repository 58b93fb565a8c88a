/** Kernel symbol lookup from {@code /proc/kallsyms}. */
package io.moonwalk.symbolize.kernel;
