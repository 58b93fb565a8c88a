package io.moonwalk.elf;

import java.nio.file.Path;

/** Child-JVM entry point for {@link ElfAmplificationTest}: parses a file and prints the outcome. */
public final class ParseProbe {
    private ParseProbe() {}

    public static void main(String[] args) throws Exception {
        try (ElfFile elf = ElfFile.open(Path.of(args[0]))) {
            int n = args[1].equals("symbols") ? elf.functionSymbols(SymbolSource.SYMTAB).size() : elf.sections().size();
            System.out.println("OK " + n);
        } catch (ElfFormatException e) {
            System.out.println("REFUSED " + e.getMessage());
        }
    }
}
