package io.moonwalk.symbolize.symbols;

import io.moonwalk.elf.UnsignedSearch;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.ElfSymbol;
import io.moonwalk.elf.Section;
import io.moonwalk.elf.SymbolSource;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable address-sorted table of the code symbols of one ELF file, in parallel primitive
 * arrays with all names in one byte blob. {@link #lookup(long)} allocates nothing.
 *
 * <p>Aliases (several names at one address) collapse to one entry; the name kept is the most
 * "public" one: global or weak over local, then fewer leading underscores, then sized over
 * size-0, then the shorter name (so {@code malloc} beats {@code __libc_malloc}).
 */
public final class SymbolTable {
    /** How many preceding entries a lookup inspects when symbols nest (a sized label inside a function). */
    private static final int MAX_NESTING = 8;
    private static final long MAX_NAME_BYTES = 1L << 30;

    private static final SymbolTable EMPTY = new SymbolTable(new long[0], new long[0], new int[1], new byte[0]);

    private final long[] starts;
    private final long[] ends;
    private final int[] nameOffsets;
    private final byte[] names;

    private SymbolTable(long[] starts, long[] ends, int[] nameOffsets, byte[] names) {
        this.starts = starts;
        this.ends = ends;
        this.nameOffsets = nameOffsets;
        this.names = names;
    }

    public static SymbolTable empty() {
        return EMPTY;
    }

    /** Builds the table from {@code .symtab} and {@code .dynsym} merged. */
    public static SymbolTable build(ElfFile elf) throws ElfFormatException {
        List<ElfSymbol> all = new ArrayList<>(elf.functionSymbols(SymbolSource.SYMTAB));
        all.addAll(elf.functionSymbols(SymbolSource.DYNSYM));
        return build(all, elf.sections());
    }

    private record Candidate(long start, long sizeEnd, long sectionEnd, int bindRank, int underscores,
                             boolean sized, String name) {
    }

    private static final Comparator<Candidate> ORDER = Comparator
            .<Candidate>comparingLong(c -> c.start() ^ Long.MIN_VALUE) // unsigned order
            .thenComparingInt(Candidate::bindRank)
            .thenComparingInt(Candidate::underscores)
            .thenComparing(c -> !c.sized())
            .thenComparingInt(c -> c.name().length())
            .thenComparing(Candidate::name);

    static SymbolTable build(List<ElfSymbol> symbols, List<Section> sections) throws ElfFormatException {
        List<Candidate> cands = new ArrayList<>(symbols.size());
        for (ElfSymbol s : symbols) {
            long sizeEnd = 0;
            if (s.size() != 0) {
                sizeEnd = s.value() + s.size();
                if (Long.compareUnsigned(sizeEnd, s.value()) <= 0) {
                    continue; // wraps around the address space: garbage
                }
            }
            long sectionEnd = 0;
            if (s.sectionIndex() < sections.size()) {
                Section sec = sections.get(s.sectionIndex());
                if (sec.containsAddress(s.value())) {
                    sectionEnd = sec.addr() + sec.size();
                }
            }
            int bindRank = s.bind() == ElfSymbol.STB_LOCAL ? 1 : 0;
            int underscores = 0;
            while (underscores < s.name().length() && s.name().charAt(underscores) == '_') {
                underscores++;
            }
            cands.add(new Candidate(s.value(), sizeEnd, sectionEnd, bindRank, underscores, s.size() != 0, s.name()));
        }
        if (cands.isEmpty()) {
            return EMPTY;
        }
        cands.sort(ORDER);

        // Collapse aliases: the first of each address group is the preferred name.
        List<Candidate> kept = new ArrayList<>();
        List<Long> keptSizeEnds = new ArrayList<>();
        for (int i = 0; i < cands.size(); ) {
            Candidate best = cands.get(i);
            long sizeEnd = best.sizeEnd();
            int j = i + 1;
            while (j < cands.size() && cands.get(j).start() == best.start()) {
                long e = cands.get(j).sizeEnd();
                if (e != 0 && (sizeEnd == 0 || Long.compareUnsigned(e, sizeEnd) > 0)) {
                    sizeEnd = e;
                }
                j++;
            }
            kept.add(best);
            keptSizeEnds.add(sizeEnd);
            i = j;
        }

        int n = kept.size();
        long[] starts = new long[n];
        long[] ends = new long[n];
        int[] nameOffsets = new int[n + 1];
        byte[][] encoded = new byte[n][];
        long total = 0;
        for (int i = 0; i < n; i++) {
            Candidate c = kept.get(i);
            starts[i] = c.start();
            long end = keptSizeEnds.get(i);
            if (end == 0) {
                // Size-0 label: it covers up to the next symbol, never past its own section.
                long next = i + 1 < n ? kept.get(i + 1).start() : 0;
                long sectionEnd = c.sectionEnd();
                if (next != 0 && sectionEnd != 0) {
                    end = Long.compareUnsigned(next, sectionEnd) < 0 ? next : sectionEnd;
                } else if (next != 0) {
                    end = next;
                } else if (sectionEnd != 0) {
                    end = sectionEnd;
                } else {
                    end = c.start() + 1;
                }
            }
            ends[i] = end;
            encoded[i] = c.name().getBytes(StandardCharsets.UTF_8);
            total += encoded[i].length;
            if (total > MAX_NAME_BYTES) {
                throw new ElfFormatException("symbol names exceed " + MAX_NAME_BYTES + " bytes");
            }
        }
        byte[] names = new byte[(int) total];
        int pos = 0;
        for (int i = 0; i < n; i++) {
            nameOffsets[i] = pos;
            System.arraycopy(encoded[i], 0, names, pos, encoded[i].length);
            pos += encoded[i].length;
        }
        nameOffsets[n] = pos;
        return new SymbolTable(starts, ends, nameOffsets, names);
    }

    /**
     * The index of the symbol covering {@code vaddr} (an ELF virtual address, not a runtime one),
     * or -1. A sized symbol covers {@code [value, value+size)}; a size-0 symbol covers up to the next
     * symbol, within its section.
     */
    public int lookup(long vaddr) {
        int found = UnsignedSearch.floor(starts, vaddr); // last start <= vaddr, or -1
        for (int i = found, k = 0; i >= 0 && k < MAX_NESTING; i--, k++) {
            if (Long.compareUnsigned(vaddr, ends[i]) < 0) {
                return i;
            }
        }
        return -1;
    }

    public int size() {
        return starts.length;
    }

    public long address(int index) {
        return starts[index];
    }

    /** Exclusive end of the range the symbol covers. */
    public long end(int index) {
        return ends[index];
    }

    public String name(int index) {
        int from = nameOffsets[index];
        return new String(names, from, nameOffsets[index + 1] - from, StandardCharsets.UTF_8);
    }

    /** Approximate heap footprint, for cache accounting. */
    public long footprintBytes() {
        return 16L * starts.length + 4L * nameOffsets.length + names.length + 64;
    }
}
