package io.moonwalk.agent.output;

import java.util.List;

/**
 * One line of a folded file.
 *
 * @param frames the stack root first; the first element is the process command when the file
 *               was written by {@link FoldedWriter}
 * @param count  the sample count, at least 1
 */
public record FoldedStack(List<String> frames, long count) {
    public FoldedStack {
        frames = List.copyOf(frames);
    }

    /** The line as it appears in a folded file, without the line break. */
    public String line() {
        return String.join(";", frames) + " " + count;
    }
}
