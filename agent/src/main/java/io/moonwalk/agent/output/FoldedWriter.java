package io.moonwalk.agent.output;

import io.moonwalk.frame.Frame;
import io.moonwalk.agent.profile.Profile;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Brendan Gregg's collapsed ("folded") stacks: {@code command;root;...;leaf count}, one line per
 * distinct stack, sorted. Threads and labels are not part of the format, so entries that differ
 * only in those collapse into one line.
 */
public final class FoldedWriter implements ProfileWriter {

    /** Stands in for an empty process command or frame name, which the format cannot express. */
    static final String UNKNOWN = "[unknown]";

    @Override
    public void write(Profile profile, OutputStream out) throws IOException {
        Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        for (Map.Entry<String, Long> line : collapse(profile).entrySet()) {
            w.write(line.getKey());
            w.write(' ');
            w.write(Long.toString(line.getValue()));
            w.write('\n');
        }
        w.flush();
    }

    /**
     * The folded stacks of {@code profile}: stack text to summed count, sorted by stack text.
     * Entries with a zero count are left out.
     *
     * @throws IllegalArgumentException on a negative count or when a sum overflows
     */
    public static SortedMap<String, Long> collapse(Profile profile) {
        Map<String, Long> stacks = new HashMap<>();
        // Sanitized labels per distinct frame: frames repeat across stacks far more than they differ.
        Map<Frame, String> labels = new HashMap<>();
        StringBuilder sb = new StringBuilder(256);
        for (Profile.Entry e : profile.entries()) {
            if (e.count() < 0) {
                throw new IllegalArgumentException("negative sample count " + e.count()
                        + " for process " + e.process().pid() + " (" + e.process().command() + ")");
            }
            if (e.count() == 0) {
                continue;
            }
            sb.setLength(0);
            appendSanitized(sb, e.process().commandWithContainer());
            for (Frame f : e.frames()) {
                sb.append(';').append(labels.computeIfAbsent(f, fr -> sanitize(fr.label())));
            }
            stacks.merge(sb.toString(), e.count(), Math::addExact);
        }
        return new TreeMap<>(stacks);
    }

    /**
     * Makes {@code name} safe as one folded frame: {@code ;} (the frame separator) becomes
     * {@code :}, as in stackcollapse-perf.pl, and control characters and Unicode line separators
     * (which would split the line) become spaces. An empty name becomes {@value #UNKNOWN}.
     */
    public static String sanitize(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        appendSanitized(sb, name);
        return sb.toString();
    }

    private static void appendSanitized(StringBuilder sb, String name) {
        if (name.isEmpty()) {
            sb.append(UNKNOWN);
            return;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == ';') {
                sb.append(':');
            } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                sb.append(' ');
            } else {
                sb.append(c);
            }
        }
    }
}
