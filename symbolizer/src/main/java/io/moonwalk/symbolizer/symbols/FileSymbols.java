package io.moonwalk.symbolizer.symbols;

import io.moonwalk.symbolizer.elf.ElfFile;
import io.moonwalk.symbolizer.elf.ElfFormatException;
import io.moonwalk.symbolizer.elf.Segment;
import java.util.List;

/**
 * What the symbolizer keeps of one ELF file once it is closed: its symbol table, its PT_LOAD
 * layout (to turn file offsets into ELF addresses) and its build ID. Holds no file descriptor.
 */
final class FileSymbols {
    /** Stand-in for a file that failed to load, so it is not re-parsed for every sample. */
    static final FileSymbols FAILED = new FileSymbols(SymbolTable.empty(), new long[0], new long[0], new long[0], null);

    final SymbolTable table;
    private final long[] loadOffsets;
    private final long[] loadVaddrs;
    private final long[] loadSizes;
    final String buildId;

    private FileSymbols(SymbolTable table, long[] loadOffsets, long[] loadVaddrs, long[] loadSizes, String buildId) {
        this.table = table;
        this.loadOffsets = loadOffsets;
        this.loadVaddrs = loadVaddrs;
        this.loadSizes = loadSizes;
        this.buildId = buildId;
    }

    static FileSymbols load(ElfFile elf, String buildId) throws ElfFormatException {
        List<Segment> loads = elf.loadSegments();
        long[] offs = new long[loads.size()];
        long[] vaddrs = new long[loads.size()];
        long[] sizes = new long[loads.size()];
        for (int i = 0; i < offs.length; i++) {
            offs[i] = loads.get(i).offset();
            vaddrs[i] = loads.get(i).vaddr();
            sizes[i] = loads.get(i).filesz();
        }
        return new FileSymbols(SymbolTable.build(elf), offs, vaddrs, sizes, buildId);
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
