package io.moonwalk.luajit.detect;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** readelf's view of the .eh_frame FDEs whose only row is CFA=rsp+80 and that span at least 8 KiB. */
final class ReadelfInterpreterFde {
    private static final Pattern FDE = Pattern.compile("FDE cie=\\S+ pc=([0-9a-f]+)\\.\\.([0-9a-f]+)");

    private ReadelfInterpreterFde() {
    }

    static List<long[]> of(Path file) {
        String out = Run.run(120, "readelf", "-W", "--debug-dump=frames-interp", file.toString());
        // .debug_frame (symbol builds) repeats the same FDEs; only .eh_frame is what stripped files keep.
        int debugFrame = out.indexOf("Contents of the .debug_frame section");
        if (debugFrame >= 0) {
            out = out.substring(0, debugFrame);
        }
        List<long[]> found = new ArrayList<>();
        String[] lines = out.split("\n");
        for (int i = 0; i < lines.length; i++) {
            Matcher m = FDE.matcher(lines[i]);
            if (!m.find()) {
                continue;
            }
            long start = Long.parseLong(m.group(1), 16);
            long end = Long.parseLong(m.group(2), 16);
            List<String> rows = new ArrayList<>();
            int j = i + 2; // skip the "LOC CFA ..." header
            while (j < lines.length && !lines[j].isBlank()) {
                rows.add(lines[j].trim());
                j++;
            }
            if (end - start >= 8192 && rows.size() == 1 && rows.getFirst().split("\\s+")[1].equals("rsp+80")) {
                found.add(new long[] {start, end});
            }
        }
        return found;
    }
}
