package io.moonwalk.process;

import io.moonwalk.elf.UnsignedSearch;
import io.moonwalk.elf.UnsignedSearch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A parsed snapshot of {@code /proc/PID/maps}, sorted by start address. Lines that do not parse
 * are skipped and counted in {@link #malformedLines()} rather than failing the whole snapshot.
 */
public final class ProcessMaps {
    private final List<Mapping> mappings;
    private final long[] starts;
    private final int malformedLines;

    private ProcessMaps(List<Mapping> mappings, int malformedLines) {
        this.mappings = mappings;
        this.malformedLines = malformedLines;
        this.starts = new long[mappings.size()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = mappings.get(i).start();
        }
    }

    /** Reads {@code /proc/PID/maps}. A vanished process gives {@link java.nio.file.NoSuchFileException}. */
    public static ProcessMaps read(int pid) throws IOException {
        return read(Path.of("/proc", Integer.toString(pid), "maps"));
    }

    public static ProcessMaps read(Path mapsFile) throws IOException {
        // Bytes, not Files.readString: paths need not be valid UTF-8, and a strict decoder would throw.
        return parse(new String(Files.readAllBytes(mapsFile), StandardCharsets.UTF_8));
    }

    /** Parses the text of a maps file. */
    public static ProcessMaps parse(String text) {
        List<Mapping> out = new ArrayList<>();
        int bad = 0;
        int pos = 0;
        int len = text.length();
        while (pos < len) {
            int nl = text.indexOf('\n', pos);
            int lineEnd = nl < 0 ? len : nl;
            if (lineEnd > pos) {
                Mapping m = parseLine(text, pos, lineEnd);
                if (m == null) {
                    bad++;
                } else {
                    out.add(m);
                }
            }
            pos = lineEnd + 1;
        }
        out.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));
        return new ProcessMaps(Collections.unmodifiableList(out), bad);
    }

    /**
     * {@code start-end perms offset major:minor inode [padding path]}. The path is everything after
     * the padding that follows the inode, so it may contain spaces; the kernel escapes newlines in it.
     */
    static Mapping parseLine(String s, int from, int to) {
        Cursor c = new Cursor(s, from, to);
        long start = c.hex('-');
        long end = c.hex(' ');
        String perms = c.token(' ');
        long offset = c.hex(' ');
        long major = c.hex(':');
        long minor = c.hex(' ');
        long inode = c.dec();
        if (c.failed || perms == null || perms.length() != 4 || Long.compareUnsigned(end, start) <= 0
                || major > Integer.MAX_VALUE || minor > Integer.MAX_VALUE) {
            return null;
        }
        String path = "";
        if (c.pos < to) {
            if (s.charAt(c.pos) != ' ') {
                return null;
            }
            int p = c.pos;
            while (p < to && s.charAt(p) == ' ') {
                p++;
            }
            path = s.substring(p, to);
        }
        return new Mapping(start, end, perms, offset, (int) major, (int) minor, inode, path);
    }

    private static final class Cursor {
        final String s;
        final int to;
        int pos;
        boolean failed;

        Cursor(String s, int from, int to) {
            this.s = s;
            this.pos = from;
            this.to = to;
        }

        long hex(char terminator) {
            long v = 0;
            int digits = 0;
            while (pos < to && s.charAt(pos) != terminator) {
                int d = Character.digit(s.charAt(pos), 16);
                if (d < 0 || ++digits > 16) {
                    failed = true;
                    return 0;
                }
                v = (v << 4) | d;
                pos++;
            }
            if (digits == 0 || pos >= to) {
                failed = true;
                return 0;
            }
            pos++;
            return v;
        }

        long dec() {
            long v = 0;
            int digits = 0;
            while (pos < to && s.charAt(pos) != ' ') {
                char ch = s.charAt(pos);
                if (ch < '0' || ch > '9' || ++digits > 19) {
                    failed = true;
                    return 0;
                }
                v = v * 10 + (ch - '0');
                pos++;
            }
            if (digits == 0) {
                failed = true;
            }
            return v;
        }

        String token(char terminator) {
            int end = s.indexOf(terminator, pos);
            if (end < 0 || end > to) {
                failed = true;
                return null;
            }
            String t = s.substring(pos, end);
            pos = end + 1;
            return t;
        }
    }

    public List<Mapping> mappings() {
        return mappings;
    }

    public int malformedLines() {
        return malformedLines;
    }

    /** The mapping containing {@code address}, or null. */
    public Mapping find(long address) {
        int found = UnsignedSearch.floor(starts, address); // last start <= address, or -1
        if (found < 0) {
            return null;
        }
        Mapping m = mappings.get(found);
        return m.contains(address) ? m : null;
    }
}
