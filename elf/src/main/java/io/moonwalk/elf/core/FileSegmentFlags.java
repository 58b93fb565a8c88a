package io.moonwalk.elf.core;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.Segment;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** The permissions a file mapping had, taken from the mapped file's own PT_LOAD at the mapping's offset. */
final class FileSegmentFlags {
    private FileSegmentFlags() {
    }

    /** PF_* flags of the PT_LOAD of {@code f}'s file whose page-aligned offset is the mapping's; 0 when unknown. */
    static int of(MappedFileSource files, MappedFile f) {
        Optional<Path> p = files.resolve(f);
        if (p.isEmpty()) {
            return 0;
        }
        try (ElfFile elf = ElfFile.open(p.get())) {
            for (Segment s : elf.loadSegments()) {
                long align = Math.max(4096, s.align());
                if ((s.offset() & -align) == f.offset() || (s.offset() & ~4095L) == f.offset()) {
                    return s.flags();
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }
}
