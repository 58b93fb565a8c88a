package io.moonwalk.luajit.detect;

import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.Section;
import io.moonwalk.unwinder.cfi.CfaRow;
import io.moonwalk.unwinder.cfi.CfiFormatException;
import io.moonwalk.unwinder.cfi.CfiSection;
import io.moonwalk.unwinder.cfi.Fde;
import io.moonwalk.unwinder.cfi.PointerBases;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the LuaJIT interpreter from its unwind information: DynASM emits one FDE for the whole
 * blob of bytecode handlers, fast functions and VM entry points, with a single row CFA = rsp + 80
 * (the interpreter's C frame). No C function is that large with a constant CFA.
 */
final class InterpreterLocator {
    /** The blob is ~16 KiB in every 2.1 build; C functions with a constant rsp+80 CFA are far smaller. */
    static final long MIN_INTERPRETER_BYTES = 8 * 1024;
    /** The blob is nowhere near this; larger FDEs are not LuaJIT's (or are hostile). */
    static final long MAX_INTERPRETER_BYTES = 1024 * 1024;
    private static final int DWARF_RSP = 7;

    record Range(long start, long end) {
    }

    private InterpreterLocator() {
    }

    static Range locate(ElfFile elf) throws Refusal {
        Section eh = elf.section(".eh_frame")
                .orElseThrow(() -> new Refusal("no .eh_frame section, so the interpreter's FDE cannot be found"));
        CfiSection cfi;
        try {
            cfi = CfiSection.parse(CfiSection.Kind.EH_FRAME, eh.data(), eh.addr(), PointerBases.NONE);
        } catch (CfiFormatException | ElfFormatException e) {
            throw new Refusal(".eh_frame unreadable: " + e.getMessage());
        }
        List<Range> found = new ArrayList<>();
        for (Fde fde : cfi.fdes()) {
            long size = fde.pcEnd() - fde.pcBegin();
            if (size < MIN_INTERPRETER_BYTES || size > MAX_INTERPRETER_BYTES) {
                continue;
            }
            List<CfaRow> rows;
            try {
                rows = cfi.evaluate(fde);
            } catch (CfiFormatException e) {
                continue; // a broken FDE cannot be the interpreter's; others may still be
            }
            if (!rows.isEmpty() && rows.stream().allMatch(InterpreterLocator::isInterpreterRow)) {
                found.add(new Range(fde.pcBegin(), fde.pcEnd()));
            }
        }
        if (found.isEmpty()) {
            throw new Refusal("no FDE of at least " + MIN_INTERPRETER_BYTES + " bytes with the single rule CFA=rsp+"
                    + LuajitLayout.INTERP_CFA_OFFSET + " (the interpreter's)");
        }
        if (found.size() > 1) {
            throw new Refusal(found.size() + " FDEs look like a LuaJIT interpreter (" + found
                    + "); refusing to pick one");
        }
        return found.getFirst();
    }

    private static boolean isInterpreterRow(CfaRow row) {
        return !row.cfaIsExpression() && row.cfaRegister() == DWARF_RSP
                && row.cfaOffset() == LuajitLayout.INTERP_CFA_OFFSET;
    }
}
