package io.moonwalk.unwinder.lpm;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.Segment;
import io.moonwalk.process.Mapping;
import java.util.OptionalLong;

/**
 * The load bias of a file mapping: runtime address minus file virtual address, so that {@code pc - bias} is
 * the address the file's unwind table and symbols use. Derived from the PT_LOAD segment that loaded the
 * mapping's file offset: {@code bias = mapping.start - (p_vaddr + (mapping.offset - p_offset))}.
 *
 * <p>Only segments with the mapping's execute permission qualify. For executable mappings (the ones
 * {@code pid_maps} holds) the answer is unambiguous. A read-only mapping can be: the RELRO part of the RW
 * segment, made read-only after relocation, starts on the same file page as the read-only segment before it,
 * and nothing in the mapping tells them apart. Then the segment whose own range holds the offset wins, which
 * can be the wrong one; use the executable mapping's bias for the whole file when it matters.
 */
public final class MappingBias {
    private static final long PAGE = 4096;

    private MappingBias() {
    }

    /**
     * @return the bias, or empty when no PT_LOAD segment with the mapping's execute permission loads the
     *     mapping's offset (the file was mapped some other way, e.g. mmap'ed as data, or the mapping does not
     *     belong to this file)
     */
    public static OptionalLong of(Mapping mapping, ElfFile elf) {
        long off = mapping.offset();
        Segment best = null;
        boolean bestHoldsOffset = false;
        for (Segment s : elf.segments()) {
            if (!s.isLoad() || s.filesz() == 0 || s.isExecutable() != mapping.isExecutable()) {
                continue;
            }
            // The kernel maps a segment from its page-aligned offset, so a mapping may start below p_offset.
            boolean holdsOffset = off >= s.offset() && off - s.offset() < s.filesz();
            boolean inLeadingPage = off < s.offset() && off >= (s.offset() & -PAGE);
            if (!holdsOffset && !inLeadingPage) {
                continue;
            }
            if (best == null || holdsOffset && !bestHoldsOffset) {
                best = s;
                bestHoldsOffset = holdsOffset;
            }
        }
        if (best == null) {
            return OptionalLong.empty();
        }
        long vaddr = best.vaddr() + (off - best.offset());
        return OptionalLong.of(mapping.start() - vaddr);
    }
}
