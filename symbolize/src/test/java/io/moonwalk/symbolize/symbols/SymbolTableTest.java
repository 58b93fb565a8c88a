package io.moonwalk.symbolize.symbols;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.testfixtures.Fixtures;
import io.moonwalk.testfixtures.Tools;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

@Tag("tools")
class SymbolTableTest {
    static final Path LIBC = Path.of("/lib/x86_64-linux-gnu/libc.so.6");

    static List<Path> binaries() {
        Fixtures f = Fixtures.get();
        return List.of(f.lib, f.libStripped, f.exe, f.exeNoPie, LIBC);
    }

    /** Every code symbol nm reports resolves, at its start and its middle, to one of the names at its address. */
    @ParameterizedTest
    @MethodSource("binaries")
    void everyNmSymbolResolvesToItselfOrAnAlias(Path file) throws IOException {
        List<Tools.NmSymbol> nm = new java.util.ArrayList<>(Tools.nmCode(file, false));
        nm.addAll(Tools.nmCode(file, true));
        Map<Long, Set<String>> aliases = Tools.aliases(nm);
        try (ElfFile elf = ElfFile.open(file)) {
            SymbolTable table = SymbolTable.build(elf);
            assertThat(table.size()).isEqualTo(aliases.size());
            for (Tools.NmSymbol s : nm) {
                int i = table.lookup(s.value());
                assertThat(i).as("lookup of %s at 0x%x", s.name(), s.value()).isNotNegative();
                assertThat(aliases.get(s.value())).as("names at 0x%x", s.value()).contains(table.name(i));
                if (s.size() > 1) {
                    int mid = table.lookup(s.value() + s.size() / 2);
                    assertThat(table.name(mid)).isEqualTo(table.name(i));
                    assertThat(table.lookup(s.value() + s.size() - 1)).isEqualTo(mid);
                }
            }
        }
    }

    @Test
    void libcMallocAndPrintfResolveAtNmAddresses() throws IOException {
        Map<String, Tools.NmSymbol> byName = new java.util.HashMap<>();
        for (Tools.NmSymbol s : Tools.nm(LIBC, true)) {
            byName.putIfAbsent(s.name(), s);
        }
        try (ElfFile elf = ElfFile.open(LIBC)) {
            SymbolTable t = SymbolTable.build(elf);
            for (String name : List.of("malloc", "printf", "free")) {
                Tools.NmSymbol s = byName.get(name);
                assertThat(s).as(name).isNotNull();
                // malloc has the alias __libc_malloc and printf has _IO_printf: the public name wins.
                assertThat(t.name(t.lookup(s.value()))).isEqualTo(name);
                assertThat(t.name(t.lookup(s.value() + s.size() - 1))).isEqualTo(name);
                assertThat(t.address(t.lookup(s.value() + 3))).isEqualTo(s.value());
            }
        }
    }

    @Test
    void stripsKeepExportsAndLoseLocals() throws IOException {
        Fixtures f = Fixtures.get();
        List<Tools.NmSymbol> full = Tools.nm(f.lib, false);
        Tools.NmSymbol local = full.stream().filter(s -> s.name().equals("fix_local_helper")).findFirst().orElseThrow();
        Tools.NmSymbol work = full.stream().filter(s -> s.name().equals("fix_work")).findFirst().orElseThrow();
        try (ElfFile unstripped = ElfFile.open(f.lib); ElfFile stripped = ElfFile.open(f.libStripped)) {
            SymbolTable a = SymbolTable.build(unstripped);
            SymbolTable b = SymbolTable.build(stripped);
            assertThat(a.name(a.lookup(local.value()))).isEqualTo("fix_local_helper");
            int inStripped = b.lookup(local.value());
            assertThat(inStripped < 0 ? null : b.name(inStripped)).isNotEqualTo("fix_local_helper");
            assertThat(b.name(b.lookup(work.value() + 1))).isEqualTo("fix_work");
            assertThat(a.name(a.lookup(work.value()))).isEqualTo("fix_work");
            // Past the last byte of a sized function (into padding or the next symbol) is not that function.
            int after = a.lookup(work.value() + work.size());
            assertThat(after < 0 ? null : a.name(after)).isNotEqualTo("fix_work");
        }
    }
}
