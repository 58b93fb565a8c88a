/**
 * A bounded, defensive reader for ELF64 little-endian files: headers, sections, segments, symbols,
 * notes. Every offset read from the file is checked before use; malformed input is reported as
 * {@link io.moonwalk.elf.ElfFormatException}.
 */
package io.moonwalk.elf;
