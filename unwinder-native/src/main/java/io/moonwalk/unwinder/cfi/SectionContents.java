package io.moonwalk.unwinder.cfi;

import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.Section;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.DataFormatException;
import java.util.Arrays;
import java.util.zip.Inflater;

/**
 * A CFI section's bytes, inflated when the section is {@code SHF_COMPRESSED} (distributions ship separate debug
 * files with zlib-compressed .debug_* sections; .debug_frame included).
 */
final class SectionContents {
    static final long SHF_COMPRESSED = 0x800;
    /** deflate's best case is about 1032:1 (RFC 1951 maximum run encoding); a larger claim is a lie. */
    static final long MAX_DEFLATE_RATIO = 1100;
    private static final int INITIAL_OUTPUT = 64 << 10;
    private static final int ELFCOMPRESS_ZLIB = 1;
    private static final int ELFCOMPRESS_ZSTD = 2;
    private static final int CHDR_SIZE = 24;

    private SectionContents() {
    }

    /**
     * @param maxBytes refuse sections that are (or inflate to) more than this: a hostile header must not make us
     *     allocate gigabytes
     */
    static ByteBuffer read(Section section, long maxBytes) throws ElfFormatException, CfiFormatException {
        ByteBuffer raw = section.data();
        if ((section.flags() & SHF_COMPRESSED) == 0) {
            if (raw.remaining() > maxBytes) {
                throw new CfiFormatException(section.name() + " is " + raw.remaining() + " bytes, more than the "
                        + maxBytes + "-byte limit for a CFI section");
            }
            return raw;
        }
        if (raw.remaining() < CHDR_SIZE) {
            throw new CfiFormatException(section.name() + " is marked compressed but has no compression header");
        }
        int type = raw.getInt(0);
        long size = raw.getLong(8);
        if (type == ELFCOMPRESS_ZSTD) {
            throw new CfiFormatException(section.name() + " is zstd-compressed, which is not supported; rebuild "
                    + "the debug file with -gz=zlib or uncompressed");
        }
        if (type != ELFCOMPRESS_ZLIB) {
            throw new CfiFormatException(section.name() + ": unknown compression type " + type);
        }
        if (size < 0 || size > maxBytes) {
            throw new CfiFormatException(section.name() + " claims to inflate to " + Long.toUnsignedString(size)
                    + " bytes, more than the " + maxBytes + "-byte limit for a CFI section");
        }
        long compressed = raw.remaining() - CHDR_SIZE;
        if (size > compressed * MAX_DEFLATE_RATIO + CHDR_SIZE) {
            throw new CfiFormatException(section.name() + " claims to inflate " + compressed + " bytes to "
                    + size + ", beyond what deflate can produce (" + MAX_DEFLATE_RATIO + ":1)");
        }
        // Grow with what actually inflates, never allocate the claimed size up front: a lying header
        // costs at most twice the real output.
        byte[] out = new byte[(int) Math.min(size, Math.max(INITIAL_OUTPUT, compressed * 4))];
        int got = 0;
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(raw.slice(CHDR_SIZE, raw.remaining() - CHDR_SIZE));
            while (got < size) {
                if (got == out.length) {
                    out = Arrays.copyOf(out, (int) Math.min(size, (long) out.length * 2));
                }
                int k = inflater.inflate(out, got, out.length - got);
                if (k == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                got += k;
            }
            if (got != size) {
                throw new CfiFormatException(section.name() + " inflated to " + got + " bytes, but its header says "
                        + size);
            }
        } catch (DataFormatException e) {
            throw new CfiFormatException(section.name() + ": corrupt zlib data: " + e.getMessage());
        } finally {
            inflater.end();
        }
        return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    }
}
