package io.moonwalk.symbolize.symbols;

import io.moonwalk.elf.UnsignedSearch;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import java.util.List;

/**
 * One process's executable mappings, snapshotted once, resolving addresses against the shared
 * file cache of a {@link NativeSymbolizer}. Each mapping's file is looked up at most once per view.
 * Not thread-safe; the caller replaces the view when the process's mappings change.
 */
public final class ProcessSymbols {
    private final NativeSymbolizer owner;
    private final int pid;
    private final ProcessMaps maps;
    private final Mapping[] code;
    private final long[] starts;
    private final FileSymbols[] files;

    ProcessSymbols(NativeSymbolizer owner, int pid, ProcessMaps maps) {
        this.owner = owner;
        this.pid = pid;
        this.maps = maps;
        List<Mapping> exec = maps.mappings().stream().filter(Mapping::isExecutable).toList();
        this.code = exec.toArray(new Mapping[0]);
        this.starts = new long[code.length];
        for (int i = 0; i < code.length; i++) {
            starts[i] = code[i].start();
        }
        this.files = new FileSymbols[code.length];
    }

    public int pid() {
        return pid;
    }

    public ProcessMaps maps() {
        return maps;
    }

    /**
     * True when {@code other} has the same file-backed executable mappings (addresses, offsets, files): a re-read of the maps
     * that found nothing new to name addresses with.
     */
    public boolean sameCode(ProcessSymbols other) {
        // anonymous executable memory (a JVM's code cache, other JITs) is committed and split all the time but never
        // gives a name: only file-backed code counts
        return java.util.Arrays.equals(fileCode(), other.fileCode());
    }

    private Mapping[] fileCode() {
        return java.util.Arrays.stream(code).filter(Mapping::isFileBacked).toArray(Mapping[]::new);
    }

    /**
     * Resolves a runtime address. For a return address (every frame but the leaf) the lookup uses
     * {@code address - 1}, which lies inside the call instruction, so a call that ends a function
     * is not attributed to the next one; all fields of the result describe that adjusted address.
     *
     * @return null when the address is in no executable mapping or in anonymous (JIT) memory
     */
    public Resolved resolve(long address, boolean isReturnAddress) {
        long at = isReturnAddress ? address - 1 : address;
        int i = find(at);
        if (i < 0) {
            return null;
        }
        Mapping m = code[i];
        FileSymbols fs = files[i];
        if (fs == null) {
            if (m.isVdso()) {
                fs = owner.vdso(m.size());
            } else if (m.isFileBacked()) {
                fs = owner.loadFile(pid, m);
            } else {
                return null;
            }
            files[i] = fs;
        }
        long fileOffset = m.fileOffset(at);
        if (fs.failed()) {
            return new Resolved(null, 0, m.fileName(), m.filePath(), fileOffset, ElfFile.NO_VADDR, null, null, m);
        }
        long vaddr = fs.toVaddr(fileOffset);
        int sym = vaddr == ElfFile.NO_VADDR ? -1 : fs.table.lookup(vaddr);
        String name = sym < 0 ? null : fs.table.name(sym);
        long symOffset = sym < 0 ? 0 : vaddr - fs.table.address(sym);
        return new Resolved(name, symOffset, m.fileName(), m.filePath(), fileOffset, vaddr, fs.buildId, fs.htlHash, m);
    }

    private int find(long address) {
        int found = UnsignedSearch.floor(starts, address); // last start <= address, or -1
        return found >= 0 && code[found].contains(address) ? found : -1;
    }
}
