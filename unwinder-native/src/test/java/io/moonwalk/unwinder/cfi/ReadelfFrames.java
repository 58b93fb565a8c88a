package io.moonwalk.unwinder.cfi;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses {@code readelf --debug-dump=frames-interp -W}: the ground truth the evaluator is compared with.
 * {@code -wN} stops readelf following .gnu_debuglink into a stripped debug file (libc) and failing there.
 */
final class ReadelfFrames {
    /** One printed row: column name (CFA, rbp, ra, ...) to cell text (rsp+8, c-16, u, exp, ...). */
    record Row(long loc, Map<String, String> cells) {
        String cell(String column) {
            return cells.getOrDefault(column, "u"); // an absent column is a never-mentioned register
        }
    }

    record Entry(int offset, boolean cie, int cieOffset, String augmentation, long pcBegin, long pcEnd,
            List<Row> rows) {
    }

    private static final Pattern SECTION = Pattern.compile("^Contents of the (\\S+) section");
    private static final Pattern CIE = Pattern.compile("^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ CIE \"([^\"]*)\"");
    private static final Pattern FDE = Pattern.compile(
            "^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\\.\\.([0-9a-f]+)");
    private static final Pattern ROW = Pattern.compile("^([0-9a-f]{16}) (.*)$");
    /** A register cell is printed as "r9 (r9)", with a space; every other cell is one token. */
    private static final Pattern CELL = Pattern.compile("r\\d+ \\(\\w+\\)|\\S+");

    /** Section name (.eh_frame, .debug_frame) to its entries in file order. */
    static Map<String, List<Entry>> of(Path file) {
        String text = ExternalTool.run("readelf", "-W", "-wN", "--debug-dump=frames-interp", file.toString());
        Map<String, List<Entry>> out = new LinkedHashMap<>();
        List<Entry> current = null;
        String[] header = null;
        List<Row> rows = null;
        for (String line : text.split("\n")) {
            Matcher m;
            if ((m = SECTION.matcher(line)).find()) {
                current = new ArrayList<>();
                out.put(m.group(1), current);
            } else if ((m = CIE.matcher(line)).find()) {
                rows = new ArrayList<>();
                header = null;
                current.add(new Entry(Integer.parseInt(m.group(1), 16), true, -1, m.group(2), 0, 0, rows));
            } else if ((m = FDE.matcher(line)).find()) {
                rows = new ArrayList<>();
                header = null;
                current.add(new Entry(Integer.parseInt(m.group(1), 16), false, Integer.parseInt(m.group(2), 16),
                        null, Long.parseUnsignedLong(m.group(3), 16), Long.parseUnsignedLong(m.group(4), 16), rows));
            } else if (line.startsWith("   LOC")) {
                header = line.trim().split("\\s+");
            } else if (header != null && (m = ROW.matcher(line)).find()) {
                Matcher cell = CELL.matcher(m.group(2));
                Map<String, String> map = new HashMap<>();
                for (int i = 1; cell.find(); i++) {
                    if (i >= header.length) {
                        throw new AssertionError("more cells than columns in readelf row: " + line);
                    }
                    map.put(header[i], cell.group());
                }
                rows.add(new Row(Long.parseUnsignedLong(m.group(1), 16), map));
            }
        }
        return out;
    }

    /** The state in effect at each location: readelf prints a row per advance, so later rows at one LOC win. */
    static List<Row> effective(List<Row> rows) {
        List<Row> out = new ArrayList<>();
        for (Row r : rows) {
            if (!out.isEmpty() && out.getLast().loc() == r.loc()) {
                out.set(out.size() - 1, r);
            } else {
                out.add(r);
            }
        }
        return out;
    }
}
