package io.moonwalk.luajit.abort;

/**
 * Where a trace started that aborted, named like a Lua frame whose caller is unknown: the function
 * ({@code main chunk}, or {@code function <chunk:firstline>}: the penalty cache keeps only the start instruction,
 * never the call that reached it), its chunk and the line of the start instruction — the {@code chunk:line}
 * {@code luajit -jv} prints for the abort.
 *
 * @param function the function's name
 * @param chunk    the chunk name as frames show it ({@code @} removed)
 * @param line     the line of the start instruction
 * @param startLine the line the function is defined at (0 for a main chunk)
 */
public record SiteName(String function, String chunk, int line, int startLine) {
    /** A site that could not be named (its proto did not validate, or the walk back was cut short). */
    public static final SiteName UNKNOWN = new SiteName("[unknown site]", "", 0, 0);

    /** {@code chunk:line}, as {@code jit.v} prints it. */
    public String position() {
        return this == UNKNOWN || chunk.isEmpty() ? function : chunk + ":" + line;
    }

    /** {@code function (chunk:line)}, as Lua frames are labelled. */
    public String display() {
        return this == UNKNOWN || chunk.isEmpty() ? function : function + " (" + chunk + ":" + line + ")";
    }
}
