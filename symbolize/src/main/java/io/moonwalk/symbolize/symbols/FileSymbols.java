package io.moonwalk.symbolize.symbols;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.Segment;
import io.moonwalk.elf.ElfSymbol;
import io.moonwalk.elf.Section;
import io.moonwalk.elf.SymbolSource;
import io.moonwalk.elf.DebugFileLocator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the symbolizer keeps of one ELF file once it is closed: its symbol table, its PT_LOAD
 * layout (to turn file offsets into ELF addresses) and its build ID. Holds no file descriptor.
 */
final class FileSymbols {
    /** Stand-in for a file that failed to load, so it is not re-parsed for every sample. */
    static final FileSymbols FAILED = new FileSymbols(SymbolTable.empty(), new long[0], new long[0], new long[0], null,
            null);

    final SymbolTable table;
    private final long[] loadOffsets;
    private final long[] loadVaddrs;
    private final long[] loadSizes;
    final String buildId;
    /** The OpenTelemetry {@code htlhash} build id of the file, or null (vdso, unreadable). */
    final String htlHash;

    private FileSymbols(SymbolTable table, long[] loadOffsets, long[] loadVaddrs, long[] loadSizes, String buildId,
                        String htlHash) {
        this.table = table;
        this.loadOffsets = loadOffsets;
        this.loadVaddrs = loadVaddrs;
        this.loadSizes = loadSizes;
        this.buildId = buildId;
        this.htlHash = htlHash;
    }

    static FileSymbols load(ElfFile elf, String buildId, String htlHash) throws ElfFormatException {
        return load(elf, buildId, htlHash, DebugFileLocator.system());
    }

    /** @param debugFiles where a stripped file's debug file is looked for (a replay: the module store's) */
    static FileSymbols load(ElfFile elf, String buildId, String htlHash, DebugFileLocator debugFiles)
            throws ElfFormatException {
        List<Segment> loads = elf.loadSegments();
        long[] offs = new long[loads.size()];
        long[] vaddrs = new long[loads.size()];
        long[] sizes = new long[loads.size()];
        for (int i = 0; i < offs.length; i++) {
            offs[i] = loads.get(i).offset();
            vaddrs[i] = loads.get(i).vaddr();
            sizes[i] = loads.get(i).filesz();
        }
        return new FileSymbols(symbols(elf, debugFiles), offs, vaddrs, sizes, buildId, htlHash);
    }

    /**
     * .symtab and .dynsym; for a stripped file (no .symtab) the .symtab of its separate debug file found by build-id
     * under /usr/lib/debug (libc6-dbg and friends), which names local functions such as glibc's
     * __libc_start_call_main. A debug file that cannot be read is ignored: the exported names still work.
     */
    private static SymbolTable symbols(ElfFile elf, DebugFileLocator debugFiles) throws ElfFormatException {
        if (!elf.functionSymbols(SymbolSource.SYMTAB).isEmpty()) {
            return SymbolTable.build(elf);
        }
        try {
            Optional<Path> debug = debugFiles.locate(elf, null).path();
            if (debug.isPresent()) {
                try (ElfFile d = ElfFile.open(debug.get())) {
                    List<ElfSymbol> all = new ArrayList<>(d.functionSymbols(SymbolSource.SYMTAB));
                    if (!all.isEmpty()) {
                        // .dynsym section indices are the stripped file's: move them to the debug file's section
                        // of the same name and address (its table has more sections)
                        for (ElfSymbol sym : elf.functionSymbols(SymbolSource.DYNSYM)) {
                            int idx = sameSection(elf, d, sym.sectionIndex());
                            if (idx >= 0) {
                                all.add(new ElfSymbol(sym.name(), sym.value(), sym.size(), sym.type(), sym.bind(), idx,
                                        sym.dynamic()));
                            }
                        }
                        return SymbolTable.build(all, d.sections());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the file's own symbols
        }
        return SymbolTable.build(elf);
    }

    private static int sameSection(ElfFile elf, ElfFile debug, int index) {
        if (index <= 0 || index >= elf.sections().size()) {
            return -1;
        }
        Section want = elf.sections().get(index);
        for (Section s : debug.sections()) {
            if (s.name().equals(want.name()) && s.addr() == want.addr()) {
                return s.index();
            }
        }
        return -1;
    }

    boolean failed() {
        return this == FAILED;
    }

    /** Same as {@link ElfFile#fileOffsetToVaddr(long)}, from the saved layout. */
    long toVaddr(long fileOffset) {
        for (int i = 0; i < loadOffsets.length; i++) {
            if (fileOffset >= loadOffsets[i] && fileOffset - loadOffsets[i] < loadSizes[i]) {
                return loadVaddrs[i] + (fileOffset - loadOffsets[i]);
            }
        }
        return ElfFile.NO_VADDR;
    }
}
