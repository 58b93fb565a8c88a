package io.moonwalk.luajit.detect;

import io.moonwalk.luajit.layout.LuajitLayout;
import java.nio.file.Path;
import java.util.List;

/**
 * A binary recognised as LuaJIT, with everything the kernel walker needs about it.
 *
 * @param path             the file that was examined
 * @param interpreterStart first file virtual address of the interpreter (the DynASM blob, {@code lj_vm_asm_begin})
 * @param interpreterEnd   end (exclusive) of the interpreter: the end of its constant-CFA FDE
 * @param gc64             64-bit GC references and two-slot frames
 * @param flavor           upstream or OpenResty
 * @param layout           the offsets, extracted from this binary's code and confirmed by a known layout
 * @param evidence         how each offset was found
 */
public record LuajitBinary(Path path, long interpreterStart, long interpreterEnd, boolean gc64, Flavor flavor,
        LuajitLayout layout, List<Evidence> evidence) {

    public LuajitBinary {
        evidence = List.copyOf(evidence);
    }

    /** Whether {@code vaddr} (a file virtual address) lies in the interpreter. */
    public boolean inInterpreter(long vaddr) {
        return vaddr >= interpreterStart && vaddr < interpreterEnd;
    }

    /** One line for the agent's log. */
    public String summary() {
        return path + ": LuaJIT " + flavor.name().toLowerCase(java.util.Locale.ROOT) + (gc64 ? " GC64" : " non-GC64")
                + ", interpreter [0x" + Long.toHexString(interpreterStart) + ", 0x" + Long.toHexString(interpreterEnd)
                + "), layout " + layout.name();
    }
}
