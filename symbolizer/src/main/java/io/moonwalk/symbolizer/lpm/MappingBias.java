package io.moonwalk.symbolizer.lpm;

import io.moonwalk.symbolizer.elf.ElfFile;
import io.moonwalk.symbolizer.elf.Segment;
import io.moonwalk.symbolizer.process.Mapping;
import java.util.OptionalLong;

/**
 * The load bias of a file mapping: runtime address minus file virtual address, so that {@code pc - bias} is
 * the address the file's unwind table and symbols use. Derived from the PT_LOAD segment that loaded the
 * mapping's file offset: {@code bias = mapping.start - (p_vaddr + (mapping.offset - p_offset))}.
 */
public final class MappingBias {
    private static final long PAGE = 4096;

    private MappingBias() {
    }

    /**
     * @return the bias, or empty when no PT_LOAD segment loads the mapping's offset (the file was mapped some
     *     other way, e.g. read as data by mmap, or the mapping does not belong to this file)
     */
    public static OptionalLong of(Mapping mapping, ElfFile elf) {
        long off = mapping.offset();
        Segment best = null;
        for (Segment s : elf.segments()) {
            // The kernel maps a segment from its page-aligned offset, so a mapping may start up to a page below
            // p_offset. Segments can share a page; prefer the one whose permissions match the mapping's.
            if (!s.isLoad() || s.filesz() == 0) {
                continue;
            }
            long from = s.offset() & -PAGE;
            if (off < from || off - s.offset() >= s.filesz() && off >= s.offset()) {
                continue;
            }
            if (best == null || s.isExecutable() == mapping.isExecutable() && best.isExecutable() != mapping.isExecutable()) {
                best = s;
            }
        }
        if (best == null) {
            return OptionalLong.empty();
        }
        long vaddr = best.vaddr() + (off - best.offset());
        return OptionalLong.of(mapping.start() - vaddr);
    }
}
