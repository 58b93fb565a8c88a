package io.moonwalk.luajit.abort;

/**
 * One slot of {@code J->penalty[]}: the start bytecode of a root trace that aborted, its penalty (the hot count
 * it restarts from, doubled plus a few random bits at each further abort) and the last abort's reason.
 *
 * @param pc          address of the start instruction (0: slot never used)
 * @param val         penalty value (72 after the first abort; above 60000 the next abort blacklists the site)
 * @param reason      {@code TraceError} number of the last abort ({@link TraceErrors})
 * @param blacklisted whether the instruction at {@code pc} has been blacklisted (LuaJIT stops trying it)
 */
public record PenaltySlot(long pc, int val, int reason, boolean blacklisted) {
    /** PENALTY_MIN: the value a slot gets at a site's first abort. */
    public static final int MIN = 72;
    /** PENALTY_MAX: an abort that would double the value past this blacklists the site instead. */
    public static final int MAX = 60000;

    public boolean used() {
        return pc != 0;
    }
}
