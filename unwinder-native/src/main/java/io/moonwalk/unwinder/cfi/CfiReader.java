package io.moonwalk.unwinder.cfi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Bounds-checked little-endian cursor over a CFI section. Every read checks against a limit so that a hostile
 * length or LEB128 never reads past the record it belongs to.
 */
final class CfiReader {
    /** Longest LEB128 we accept: 10 bytes carry 64 bits; anything longer is garbage, not a number. */
    private static final int MAX_LEB_BYTES = 10;

    private final ByteBuffer buf;
    private final long sectionVaddr;
    private int pos;
    private int limit;

    CfiReader(ByteBuffer section, long sectionVaddr) {
        this.buf = section.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.sectionVaddr = sectionVaddr;
        this.pos = 0;
        this.limit = buf.limit();
    }

    int size() {
        return buf.limit();
    }

    int position() {
        return pos;
    }

    int limit() {
        return limit;
    }

    /** Restricts reads to [pos, newLimit); the caller restores the previous limit when the record is done. */
    void setBounds(int newPos, int newLimit) throws CfiFormatException {
        if (newPos < 0 || newLimit < newPos || newLimit > buf.limit()) {
            throw new CfiFormatException("record bounds [" + hex(newPos) + ", " + hex(newLimit)
                    + ") outside section of " + buf.limit() + " bytes");
        }
        pos = newPos;
        limit = newLimit;
    }

    long addressOf(int offset) {
        return sectionVaddr + offset;
    }

    boolean hasRemaining() {
        return pos < limit;
    }

    int remaining() {
        return limit - pos;
    }

    private void need(int n) throws CfiFormatException {
        if (n > limit - pos) {
            throw new CfiFormatException("truncated at offset " + hex(pos) + ": need " + n + " bytes, record has "
                    + (limit - pos) + " left");
        }
    }

    void skip(long n) throws CfiFormatException {
        if (n < 0 || n > limit - pos) {
            throw new CfiFormatException("cannot skip " + n + " bytes at offset " + hex(pos) + ": record has "
                    + (limit - pos) + " left");
        }
        pos += (int) n;
    }

    int u8() throws CfiFormatException {
        need(1);
        return buf.get(pos++) & 0xff;
    }

    int u16() throws CfiFormatException {
        need(2);
        int v = buf.getShort(pos) & 0xffff;
        pos += 2;
        return v;
    }

    long u32() throws CfiFormatException {
        need(4);
        long v = buf.getInt(pos) & 0xffff_ffffL;
        pos += 4;
        return v;
    }

    long u64() throws CfiFormatException {
        need(8);
        long v = buf.getLong(pos);
        pos += 8;
        return v;
    }

    long uleb() throws CfiFormatException {
        long result = 0;
        int shift = 0;
        for (int i = 0; i < MAX_LEB_BYTES; i++) {
            int b = u8();
            if (shift < 64) {
                result |= (long) (b & 0x7f) << shift;
            }
            shift += 7;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new CfiFormatException("ULEB128 longer than " + MAX_LEB_BYTES + " bytes at offset " + hex(pos));
    }

    long sleb() throws CfiFormatException {
        long result = 0;
        int shift = 0;
        for (int i = 0; i < MAX_LEB_BYTES; i++) {
            int b = u8();
            if (shift < 64) {
                result |= (long) (b & 0x7f) << shift;
            }
            shift += 7;
            if ((b & 0x80) == 0) {
                if (shift < 64 && (b & 0x40) != 0) {
                    result |= -1L << shift;
                }
                return result;
            }
        }
        throw new CfiFormatException("SLEB128 longer than " + MAX_LEB_BYTES + " bytes at offset " + hex(pos));
    }

    /** A NUL-terminated string of at most {@code max} bytes (augmentation strings are short). */
    String cstring(int max) throws CfiFormatException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i <= max; i++) {
            int c = u8();
            if (c == 0) {
                return sb.toString();
            }
            sb.append((char) c);
        }
        throw new CfiFormatException("string longer than " + max + " bytes at offset " + hex(pos));
    }

    byte[] bytes(int n) throws CfiFormatException {
        need(n);
        byte[] out = new byte[n];
        buf.get(pos, out);
        pos += n;
        return out;
    }

    /** Unsigned address-sized value (4 or 8 bytes). */
    long address(int addressSize) throws CfiFormatException {
        return switch (addressSize) {
            case 4 -> u32();
            case 8 -> u64();
            case 2 -> u16();
            case 1 -> u8();
            default -> throw new CfiFormatException("unsupported address size " + addressSize);
        };
    }

    /**
     * Reads a pointer in a DW_EH_PE encoding. Indirect pointers would need the loaded image, so they are rejected:
     * only personality routines use them in practice and the parser skips those without decoding.
     */
    long encodedPointer(int encoding, PointerBases bases, int addressSize) throws CfiFormatException {
        if (encoding == PointerEncoding.OMIT) {
            throw new CfiFormatException("pointer with DW_EH_PE_omit at offset " + hex(pos));
        }
        int fieldOffset = pos;
        long value = switch (encoding & 0x0f) {
            case PointerEncoding.ABSPTR -> address(addressSize);
            case PointerEncoding.ULEB128 -> uleb();
            case PointerEncoding.UDATA2 -> u16();
            case PointerEncoding.UDATA4 -> u32();
            case PointerEncoding.UDATA8 -> u64();
            case PointerEncoding.SLEB128 -> sleb();
            case PointerEncoding.SDATA2 -> (short) u16();
            case PointerEncoding.SDATA4 -> (int) u32();
            case PointerEncoding.SDATA8 -> u64();
            default -> throw new CfiFormatException("unknown pointer format 0x" + Integer.toHexString(encoding)
                    + " at offset " + hex(fieldOffset));
        };
        long base = switch (encoding & 0x70) {
            case PointerEncoding.ABS -> 0;
            case PointerEncoding.PCREL -> addressOf(fieldOffset);
            case PointerEncoding.TEXTREL -> bases.requireText(fieldOffset);
            case PointerEncoding.DATAREL -> bases.requireData(fieldOffset);
            case PointerEncoding.FUNCREL, PointerEncoding.ALIGNED -> throw new CfiFormatException(
                    "pointer application 0x" + Integer.toHexString(encoding & 0x70) + " not supported at offset "
                            + hex(fieldOffset));
            default -> throw new CfiFormatException("unknown pointer application 0x"
                    + Integer.toHexString(encoding & 0x70) + " at offset " + hex(fieldOffset));
        };
        if ((encoding & PointerEncoding.INDIRECT) != 0) {
            throw new CfiFormatException("indirect pointer (encoding 0x" + Integer.toHexString(encoding)
                    + ") at offset " + hex(fieldOffset) + " needs the loaded image; not supported here");
        }
        long result = value + base;
        return addressSize == 4 ? result & 0xffff_ffffL : result;
    }

    /** Skips a pointer without interpreting it; indirect ones are fine here because nothing dereferences them. */
    void skipEncodedPointer(int encoding, int addressSize) throws CfiFormatException {
        if (encoding == PointerEncoding.OMIT) {
            return;
        }
        switch (encoding & 0x0f) {
            case PointerEncoding.ABSPTR -> skip(addressSize);
            case PointerEncoding.ULEB128 -> uleb();
            case PointerEncoding.SLEB128 -> sleb();
            case PointerEncoding.UDATA2, PointerEncoding.SDATA2 -> skip(2);
            case PointerEncoding.UDATA4, PointerEncoding.SDATA4 -> skip(4);
            case PointerEncoding.UDATA8, PointerEncoding.SDATA8 -> skip(8);
            default -> throw new CfiFormatException("unknown pointer format 0x" + Integer.toHexString(encoding)
                    + " at offset " + hex(pos));
        }
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
