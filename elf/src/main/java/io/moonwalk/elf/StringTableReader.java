package io.moonwalk.elf;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Decodes NUL-terminated names out of one ELF string table so that the memory spent is proportional
 * to the table, not to the number of references into it: a hostile file can point 2^18 section
 * headers or millions of symbols at the same 32 KiB name, or at every suffix of one long name.
 * Each offset is decoded once (later references share the String), and the characters decoded in
 * total may not exceed a small multiple of the table's size.
 */
final class StringTableReader {
    /** Decoded characters allowed per table byte; real tables decode each name about once. */
    static final int BUDGET_PER_TABLE_BYTE = 4;
    /** Allowance on top, so tiny tables with legitimately shared suffixes are never refused. */
    static final long BUDGET_SLACK = 1 << 20;

    private final ByteBuffer table;
    private final int maxNameLength;
    private final long budget;
    private final Map<Integer, String> decoded = new HashMap<>();
    private long spent;

    StringTableReader(ByteBuffer table, int maxNameLength) {
        this.table = table;
        this.maxNameLength = maxNameLength;
        this.budget = (long) table.limit() * BUDGET_PER_TABLE_BYTE + BUDGET_SLACK;
    }

    /**
     * The name at {@code off}.
     *
     * @param what names the reference in errors, e.g. "section 12 name"
     * @param fail builds the file's exception (it carries the file's description)
     */
    String name(int off, String what, java.util.function.Function<String, ElfFormatException> fail)
            throws ElfFormatException {
        String cached = decoded.get(off);
        if (cached != null) {
            return cached;
        }
        if (off < 0 || off >= table.limit()) {
            throw fail.apply(what + ": string offset " + Integer.toUnsignedString(off)
                    + " outside its string table (size " + table.limit() + ")");
        }
        int limit = Math.min(table.limit(), off + maxNameLength);
        int end = off;
        while (end < limit && table.get(end) != 0) {
            end++;
        }
        if (end == limit) {
            throw fail.apply(what + ": string at offset " + off + " is unterminated or longer than " + maxNameLength);
        }
        spent += end - off;
        if (spent > budget) {
            throw fail.apply("names decoded from one " + table.limit() + "-byte string table exceed " + budget
                    + " bytes: references overlap far more than a linker produces (refused)");
        }
        byte[] bytes = new byte[end - off];
        table.get(off, bytes);
        String s = new String(bytes, StandardCharsets.UTF_8);
        decoded.put(off, s);
        return s;
    }
}
