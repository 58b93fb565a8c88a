package io.moonwalk.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a folded file as an outside tool would (flamegraph.pl's rules: the count follows the last
 * space, frames are separated by ';'). Independent of the agent's own parser on purpose.
 */
record Folded(List<Line> lines) {
    record Line(List<String> frames, long count) {
        String joined() {
            return String.join(";", frames);
        }
    }

    static Folded read(Path file) throws IOException {
        List<Line> lines = new ArrayList<>();
        for (String raw : Files.readAllLines(file)) {
            int sp = raw.lastIndexOf(' ');
            if (raw.isEmpty() || sp <= 0) {
                throw new AssertionError("malformed folded line: '" + raw + "'");
            }
            long count = Long.parseLong(raw.substring(sp + 1));
            if (count <= 0) {
                throw new AssertionError("non-positive count: '" + raw + "'");
            }
            List<String> frames = Arrays.asList(raw.substring(0, sp).split(";", -1));
            if (frames.stream().anyMatch(String::isEmpty)) {
                throw new AssertionError("empty frame in: '" + raw + "'");
            }
            lines.add(new Line(frames, count));
        }
        return new Folded(lines);
    }

    long total() {
        return lines.stream().mapToLong(Line::count).sum();
    }

    /** Samples whose root frame (the process name) is {@code process}. */
    Folded ofProcess(String process) {
        return new Folded(lines.stream().filter(l -> l.frames().get(0).equals(process)).toList());
    }

    long countMatching(java.util.function.Predicate<Line> p) {
        return lines.stream().filter(p).mapToLong(Line::count).sum();
    }
}
