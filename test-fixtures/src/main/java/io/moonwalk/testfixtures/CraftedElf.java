package io.moonwalk.testfixtures;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes hand-made ELF64 files for hostile-input tests: a header, raw blobs, and a section header
 * table (with extended numbering when there are 0xff00 sections or more). Only what a parser reads
 * is filled in; nothing here tries to make a loadable file.
 */
public final class CraftedElf {
    public static final int SHT_PROGBITS = 1;
    public static final int SHT_SYMTAB = 2;
    public static final int SHT_STRTAB = 3;
    public static final long SHF_ALLOC = 0x2;
    public static final long SHF_EXECINSTR = 0x4;
    public static final long SHF_COMPRESSED = 0x800;

    /** One section header; {@code blob} indexes a blob added with {@link #blob}, or -1 for none. */
    public record Shdr(int name, int type, long flags, long addr, int blob, long size, int link, int info,
            long align, long entsize) {}

    private final List<byte[]> blobs = new ArrayList<>();
    private final List<Shdr> sections = new ArrayList<>();
    private int shstrndx;

    public int blob(byte[] bytes) {
        blobs.add(bytes);
        return blobs.size() - 1;
    }

    /** Adds a section header; index 0 is added automatically. Returns the section's index. */
    public int section(Shdr s) {
        sections.add(s);
        return sections.size();
    }

    /** Adds {@code count} copies of one header (for huge section counts) — returns the first index. */
    public int sections(Shdr s, int count) {
        int first = sections.size() + 1;
        for (int i = 0; i < count; i++) {
            sections.add(s);
        }
        return first;
    }

    public void shstrndx(int index) {
        this.shstrndx = index;
    }

    public void write(Path file) throws IOException {
        int n = sections.size() + 1;
        boolean extended = n >= 0xff00;
        long off = 64;
        long[] blobOff = new long[blobs.size()];
        for (int i = 0; i < blobs.size(); i++) {
            blobOff[i] = off;
            off += (blobs.get(i).length + 7) & ~7L;
        }
        long shoff = off;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            h.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
            h.putShort(16, (short) 3).putShort(18, (short) 62).putInt(20, 1);
            h.putLong(40, shoff).putShort(52, (short) 64).putShort(54, (short) 56).putShort(58, (short) 64);
            h.putShort(60, (short) (extended ? 0 : n));
            h.putShort(62, (short) (extended ? 0xffff : shstrndx));
            h.position(0);
            ch.write(h, 0);
            for (int i = 0; i < blobs.size(); i++) {
                ch.write(ByteBuffer.wrap(blobs.get(i)), blobOff[i]);
            }
            ByteBuffer t = ByteBuffer.allocate(64 * 4096).order(ByteOrder.LITTLE_ENDIAN);
            long pos = shoff;
            for (int i = 0; i < n; i++) {
                if (!t.hasRemaining()) {
                    t.flip();
                    pos += ch.write(t, pos);
                    t.clear();
                }
                int b = t.position();
                t.put(new byte[64]);
                if (i == 0) {
                    if (extended) {
                        t.putLong(b + 32, n).putInt(b + 40, shstrndx);
                    }
                    continue;
                }
                Shdr s = sections.get(i - 1);
                t.putInt(b, s.name()).putInt(b + 4, s.type()).putLong(b + 8, s.flags()).putLong(b + 16, s.addr());
                t.putLong(b + 24, s.blob() < 0 ? 0 : blobOff[s.blob()]).putLong(b + 32, s.size());
                t.putInt(b + 40, s.link()).putInt(b + 44, s.info()).putLong(b + 48, s.align())
                        .putLong(b + 56, s.entsize());
            }
            t.flip();
            ch.write(t, pos);
        }
    }
}
