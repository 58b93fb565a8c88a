package io.moonwalk.elf.core;

import io.moonwalk.process.ReadStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The GNU build id of a mapped ELF file, read from the core's memory at the start of its first mapping (the kernel
 * and gcore dump the page holding the ELF header and, in every linker's layout, the notes). Hostile bytes: sizes and
 * offsets are checked against the one page read.
 */
final class MappedBuildId {
    private static final int PAGE = 4096;
    private static final int NT_GNU_BUILD_ID = 3;
    private static final int PT_NOTE = 4;

    private MappedBuildId() {
    }

    static Optional<String> read(CoreMemory memory, long start) {
        byte[] page = new byte[PAGE];
        ReadStatus st = memory.read(0, start, page, 0, PAGE);
        int have = st == ReadStatus.OK ? PAGE : st == ReadStatus.PARTIAL ? memory.lastCount() : 0;
        if (have < 64) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(page, 0, have).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != 0x464c457f || b.get(4) != 2) {
            return Optional.empty();
        }
        long phoff = b.getLong(32);
        int phentsize = Short.toUnsignedInt(b.getShort(54));
        int phnum = Short.toUnsignedInt(b.getShort(56));
        if (phentsize != 56 || phoff < 64 || phoff + (long) phnum * 56 > have) {
            return Optional.empty();
        }
        for (int i = 0; i < phnum; i++) {
            int p = (int) phoff + 56 * i;
            if (b.getInt(p) != PT_NOTE) {
                continue;
            }
            long off = b.getLong(p + 8);
            long size = b.getLong(p + 32);
            if (off < 0 || size < 0 || off + size > have) {
                continue;
            }
            Optional<String> id = scan(b, (int) off, (int) (off + size));
            if (id.isPresent()) {
                return id;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> scan(ByteBuffer b, int pos, int end) {
        while (end - pos >= 12) {
            long namesz = Integer.toUnsignedLong(b.getInt(pos));
            long descsz = Integer.toUnsignedLong(b.getInt(pos + 4));
            int type = b.getInt(pos + 8);
            long desc = pos + 12 + ((namesz + 3) & ~3L);
            long next = desc + ((descsz + 3) & ~3L);
            if (next > end) {
                return Optional.empty();
            }
            if (type == NT_GNU_BUILD_ID && namesz == 4 && b.get(pos + 12) == 'G' && b.get(pos + 13) == 'N'
                    && b.get(pos + 14) == 'U' && descsz > 0 && descsz <= 64) {
                byte[] id = new byte[(int) descsz];
                b.get((int) desc, id);
                return Optional.of(HexFormat.of().formatHex(id));
            }
            pos = (int) next;
        }
        return Optional.empty();
    }
}
