package io.moonwalk.elf.core;

import io.moonwalk.elf.Segment;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Writes a copy of a core holding only the memory a replay read (the replay suite stores cores this small): the notes
 * as they are, and of the PT_LOAD segments the runs of pages in {@link CoreFile#touchedPages()}, each as its own
 * PT_LOAD with the segment's permissions. Executable segments without a file (JIT code) are kept whole: their
 * extent, not only their bytes, routes PCs.
 */
public final class CoreTrimmer {
    private static final int PAGE = 4096;

    private CoreTrimmer() {
    }

    public static void write(CoreFile core, Set<Long> pages, Path out) throws IOException {
        record Piece(long vaddr, long size, int flags, long srcOffset) {
        }
        List<Piece> pieces = new ArrayList<>();
        for (Segment s : core.loads()) {
            if (s.filesz() == 0) {
                continue;
            }
            if ((s.flags() & Segment.PF_X) != 0 && core.fileAt(s.vaddr()) == null) {
                pieces.add(new Piece(s.vaddr(), s.filesz(), s.flags(), s.offset()));
                continue;
            }
            long runStart = -1;
            for (long a = s.vaddr(); a < s.vaddr() + s.filesz(); a += PAGE) {
                boolean keep = pages.contains(a >>> 12);
                if (keep && runStart < 0) {
                    runStart = a;
                }
                long next = a + PAGE;
                if (runStart >= 0 && (!keep || next >= s.vaddr() + s.filesz())) {
                    long end = keep ? Math.min(next, s.vaddr() + s.filesz()) : a;
                    pieces.add(new Piece(runStart, end - runStart, s.flags(), s.offset() + (runStart - s.vaddr())));
                    runStart = -1;
                }
            }
        }
        List<ByteBuffer> notes = core.noteBytes();
        int phnum = notes.size() + pieces.size();
        long offset = 64 + 56L * phnum;
        ByteBuffer head = ByteBuffer.allocate((int) offset).order(ByteOrder.LITTLE_ENDIAN);
        head.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        head.putShort(16, (short) 4).putShort(18, (short) 62).putInt(20, 1).putLong(32, 64);
        head.putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) phnum);
        int ph = 64;
        for (ByteBuffer n : notes) {
            head.putInt(ph, Segment.PT_NOTE).putLong(ph + 8, offset).putLong(ph + 32, n.remaining())
                    .putLong(ph + 48, 4);
            offset += n.remaining();
            ph += 56;
        }
        for (Piece p : pieces) {
            head.putInt(ph, Segment.PT_LOAD).putInt(ph + 4, p.flags).putLong(ph + 8, offset).putLong(ph + 16, p.vaddr)
                    .putLong(ph + 32, p.size).putLong(ph + 40, p.size).putLong(ph + 48, PAGE);
            offset += p.size;
            ph += 56;
        }
        try (OutputStream o = Files.newOutputStream(out)) {
            o.write(head.array());
            for (ByteBuffer n : notes) {
                byte[] b = new byte[n.remaining()];
                n.duplicate().get(b);
                o.write(b);
            }
            for (Piece p : pieces) {
                ByteBuffer b = core.bytes(p.srcOffset, p.size);
                byte[] a = new byte[(int) p.size];
                b.get(a);
                o.write(a);
            }
        }
    }
}
