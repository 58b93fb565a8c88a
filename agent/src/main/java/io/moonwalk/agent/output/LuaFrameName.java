package io.moonwalk.agent.output;

import java.util.Optional;

/**
 * The parts of a Lua frame name {@code function (chunk:line)}, so pprof can carry them as
 * function name, file name and line instead of one opaque string.
 *
 * @param function the function name
 * @param chunk    the chunk name, with Lua's {@code @} file marker removed
 * @param line     the line number
 */
public record LuaFrameName(String function, String chunk, long line) {

    /**
     * Splits {@code name}; the parenthesis that closes the name is matched with its partner so
     * chunks like {@code =content_by_lua(nginx.conf:12)} stay whole. Empty when the name does not
     * have the {@code function (chunk:line)} shape.
     */
    public static Optional<LuaFrameName> parse(String name) {
        int end = name.length() - 1;
        if (end < 0 || name.charAt(end) != ')') {
            return Optional.empty();
        }
        int depth = 0;
        int open = -1;
        for (int i = end; i >= 0; i--) {
            char c = name.charAt(i);
            if (c == ')') {
                depth++;
            } else if (c == '(' && --depth == 0) {
                open = i;
                break;
            }
        }
        if (open < 2 || name.charAt(open - 1) != ' ') {
            return Optional.empty();
        }
        String inner = name.substring(open + 1, end);
        int colon = inner.lastIndexOf(':');
        if (colon <= 0 || colon == inner.length() - 1 || inner.length() - colon > 10) {
            return Optional.empty();
        }
        long line = 0;
        for (int i = colon + 1; i < inner.length(); i++) {
            char c = inner.charAt(i);
            if (c < '0' || c > '9') {
                return Optional.empty();
            }
            line = line * 10 + (c - '0');
        }
        String chunk = inner.substring(0, colon);
        if (chunk.startsWith("@") && chunk.length() > 1) {
            chunk = chunk.substring(1);
        }
        return Optional.of(new LuaFrameName(name.substring(0, open - 1), chunk, line));
    }
}
