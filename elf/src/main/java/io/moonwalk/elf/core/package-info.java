/**
 * ELF core files (x86_64 Linux, as the kernel and gdb's {@code gcore} write them): the memory of the dumped process
 * ({@code PT_LOAD}), which file was mapped where ({@code NT_FILE}), each thread's registers ({@code NT_PRSTATUS}),
 * the auxiliary vector ({@code NT_AUXV}) and the command ({@code NT_PRPSINFO}). Hostile input: counts are capped,
 * every offset is checked, inconsistencies are {@link io.moonwalk.elf.ElfFormatException}s naming what is wrong.
 */
package io.moonwalk.elf.core;
