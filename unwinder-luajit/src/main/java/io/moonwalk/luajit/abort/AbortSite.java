package io.moonwalk.luajit.abort;

/**
 * Root-trace aborts at one start bytecode of one VM.
 *
 * @param site   the start instruction: its function, chunk and line ({@code chunk:line} as {@code jit.v} prints it)
 * @param reason the reason LuaJIT recorded last ({@link TraceErrors#label}); the abort that blacklists a site
 *               leaves the recorded reason as it was, so for a blacklisted site this is the one before
 * @param count  aborts counted at the site since the agent began tracking the VM
 * @param blacklisted LuaJIT gave up compiling from this site (it stays interpreted until a flush)
 */
public record AbortSite(SiteName site, String reason, long count, boolean blacklisted) {
}
