package io.moonwalk.elf;

/** Which symbol table to read. */
public enum SymbolSource {
    /** {@code .symtab}: full, removed by {@code strip}. */
    SYMTAB,
    /** {@code .dynsym}: exported/imported symbols, survives {@code strip}. */
    DYNSYM
}
