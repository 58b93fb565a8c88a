package io.moonwalk.elf;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.testfixtures.Fixtures;
import io.moonwalk.testfixtures.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@Tag("tools")
class ElfFileTest {
    static final Path LIBC = Path.of("/lib/x86_64-linux-gnu/libc.so.6");

    static List<Path> binaries() {
        Fixtures f = Fixtures.get();
        return List.of(f.lib, f.libStripped, f.libDebug, f.exe, f.exeStripped, f.exeNoPie, LIBC);
    }

    @ParameterizedTest
    @MethodSource("binaries")
    void sectionsMatchReadelf(Path file) throws IOException {
        try (ElfFile elf = ElfFile.open(file)) {
            List<Tools.ReadelfSection> expected = Tools.sections(file);
            assertThat(expected).isNotEmpty();
            assertThat(elf.sections()).hasSize(expected.size() + 1);
            for (Tools.ReadelfSection r : expected) {
                Section s = elf.sections().get(r.index());
                assertThat(s.name()).as("name of section %d", r.index()).isEqualTo(r.name());
                assertThat(s.addr()).as("addr of %s", r.name()).isEqualTo(r.addr());
                assertThat(s.offset()).as("offset of %s", r.name()).isEqualTo(r.offset());
                assertThat(s.size()).as("size of %s", r.name()).isEqualTo(r.size());
                assertThat(elf.section(r.name())).isPresent();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("binaries")
    void loadSegmentsMatchReadelf(Path file) throws IOException {
        try (ElfFile elf = ElfFile.open(file)) {
            List<Tools.ReadelfLoad> expected = Tools.loads(file);
            List<Segment> loads = elf.loadSegments();
            assertThat(loads).hasSameSizeAs(expected).isNotEmpty();
            for (int i = 0; i < loads.size(); i++) {
                Segment s = loads.get(i);
                Tools.ReadelfLoad r = expected.get(i);
                assertThat(new long[] {s.offset(), s.vaddr(), s.filesz(), s.memsz()})
                        .isEqualTo(new long[] {r.offset(), r.vaddr(), r.filesz(), r.memsz()});
                String flags = ((s.flags() & Segment.PF_R) != 0 ? "R" : "") + ((s.flags() & Segment.PF_W) != 0 ? "W" : "")
                        + ((s.flags() & Segment.PF_X) != 0 ? "E" : "");
                assertThat(flags).isEqualTo(r.flags());
                if (r.filesz() > 0) {
                    assertThat(elf.fileOffsetToVaddr(r.offset() + r.filesz() - 1)).isEqualTo(r.vaddr() + r.filesz() - 1);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("binaries")
    void buildIdMatchesReadelf(Path file) throws IOException {
        try (ElfFile elf = ElfFile.open(file)) {
            String expected = Tools.buildId(file);
            assertThat(expected).isNotNull();
            assertThat(elf.buildId()).contains(expected);
        }
    }

    @Test
    void typeMatchesReadelf() throws IOException {
        for (Path p : binaries()) {
            try (ElfFile elf = ElfFile.open(p)) {
                String t = Tools.elfType(p);
                assertThat(elf.isExecutable()).as(p.toString()).isEqualTo(t.equals("EXEC"));
                assertThat(elf.isSharedObject()).as(p.toString()).isEqualTo(t.equals("DYN"));
                assertThat(elf.machine()).isEqualTo(ElfFile.EM_X86_64);
            }
        }
        try (ElfFile nopie = ElfFile.open(Fixtures.get().exeNoPie)) {
            assertThat(nopie.isExecutable()).isTrue();
        }
    }

    @ParameterizedTest
    @MethodSource("binaries")
    void symtabMatchesNm(Path file) throws IOException {
        try (ElfFile elf = ElfFile.open(file)) {
            assertThat(names(elf.functionSymbols(SymbolSource.SYMTAB)))
                    .isEqualTo(nmCode(Tools.nmCode(file, false)));
        }
    }

    @ParameterizedTest
    @MethodSource("binaries")
    void dynsymMatchesNmD(Path file) throws IOException {
        try (ElfFile elf = ElfFile.open(file)) {
            assertThat(names(elf.functionSymbols(SymbolSource.DYNSYM)))
                    .isEqualTo(nmCode(Tools.nmCode(file, true)));
        }
    }

    @Test
    void strippedLibraryHasOnlyDynsym() throws IOException {
        Fixtures f = Fixtures.get();
        try (ElfFile elf = ElfFile.open(f.libStripped)) {
            assertThat(elf.section(".symtab")).isEmpty();
            assertThat(elf.functionSymbols(SymbolSource.SYMTAB)).isEmpty();
            assertThat(elf.functionSymbols(SymbolSource.DYNSYM)).extracting(ElfSymbol::name)
                    .contains("fix_work", "fix_mix", "fix_ifunc", "fix_alias")
                    .doesNotContain("fix_local_helper");
        }
    }

    @Test
    void debugLinkNamesDebugFileWithItsCrc() throws IOException {
        Fixtures f = Fixtures.get();
        CRC32 crc = new CRC32();
        crc.update(Files.readAllBytes(f.libDebug));
        try (ElfFile elf = ElfFile.open(f.libStripped)) {
            assertThat(elf.debugLink()).contains(new DebugLink("libfix.debug", (int) crc.getValue()));
        }
        try (ElfFile elf = ElfFile.open(f.lib)) {
            assertThat(elf.debugLink()).isEmpty();
        }
    }

    @Test
    void sectionDataIsTheFileBytes() throws IOException {
        Path file = Fixtures.get().lib;
        byte[] all = Files.readAllBytes(file);
        try (ElfFile elf = ElfFile.open(file)) {
            Section eh = elf.section(".eh_frame").orElseThrow();
            ByteBuffer data = eh.data();
            assertThat(data.remaining()).isEqualTo((int) eh.size());
            assertThat(data.order()).isEqualTo(java.nio.ByteOrder.LITTLE_ENDIAN);
            byte[] got = new byte[data.remaining()];
            data.get(got);
            assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(all, (int) eh.offset(), (int) (eh.offset() + eh.size())));
            assertThat(elf.section(".bss").orElseThrow().data().remaining()).isZero();
        }
    }

    @Test
    void rejectsOtherClassesEndiannessAndMachines() throws IOException {
        byte[] good = Files.readAllBytes(Fixtures.get().lib);
        assertThatThrownBy(() -> ElfFile.of(ByteBuffer.wrap(patch(good, 4, 1)), "x"))
                .isInstanceOf(ElfFormatException.class).hasMessageContaining("not ELF64");
        assertThatThrownBy(() -> ElfFile.of(ByteBuffer.wrap(patch(good, 5, 2)), "x"))
                .isInstanceOf(ElfFormatException.class).hasMessageContaining("little-endian");
        assertThatThrownBy(() -> ElfFile.of(ByteBuffer.wrap(patch(good, 18, 183)), "x"))
                .isInstanceOf(ElfFormatException.class).hasMessageContaining("unsupported machine 183");
        assertThatThrownBy(() -> ElfFile.of(ByteBuffer.wrap("#!/bin/sh\necho hello, this is not an ELF file at all....."
                .repeat(2).getBytes()), "script"))
                .isInstanceOf(ElfFormatException.class).hasMessageContaining("script").hasMessageContaining("magic");
        assertThatThrownBy(() -> ElfFile.open(Path.of("/dev/null")))
                .isInstanceOf(ElfFormatException.class).hasMessageContaining("not a regular file");
    }

    private static byte[] patch(byte[] in, int offset, int value) {
        byte[] b = in.clone();
        b[offset] = (byte) value;
        return b;
    }

    private static Set<String> names(List<ElfSymbol> syms) {
        return syms.stream().map(s -> s.name() + "@" + Long.toHexString(s.value())).collect(Collectors.toSet());
    }

    private static Set<String> nmCode(List<Tools.NmSymbol> syms) {
        Set<String> out = new HashSet<>();
        for (Tools.NmSymbol s : syms) {
            out.add(s.name() + "@" + Long.toHexString(s.value()));
        }
        return out;
    }
}
