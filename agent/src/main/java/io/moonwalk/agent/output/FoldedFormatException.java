package io.moonwalk.agent.output;

import java.io.IOException;

/** A folded-stacks line that does not follow the format. */
public final class FoldedFormatException extends IOException {
    private final int lineNumber;

    public FoldedFormatException(int lineNumber, String problem) {
        super("folded stacks line " + lineNumber + ": " + problem);
        this.lineNumber = lineNumber;
    }

    /** The 1-based line number of the offending line. */
    public int lineNumber() {
        return lineNumber;
    }
}
