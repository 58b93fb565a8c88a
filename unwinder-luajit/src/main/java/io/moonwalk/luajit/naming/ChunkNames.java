package io.moonwalk.luajit.naming;

import java.nio.charset.StandardCharsets;

/**
 * How a chunk name is shown, after LuaJIT's {@code lj_debug_shortname}: {@code =name} shows as {@code name}
 * (e.g. {@code =content_by_lua(nginx.conf:12)} -> {@code content_by_lua(nginx.conf:12)}), {@code @path} as
 * {@code path}, and anything else (the source text of an unnamed chunk) as {@code [string "first line..."]}.
 * Unlike LuaJIT, names and paths are not cut at 60 bytes: a profile has room for the full path.
 */
public final class ChunkNames {
    private ChunkNames() {
    }

    /** LuaJIT's LUA_IDSIZE, which bounds the {@code [string "..."]} form. */
    private static final int IDSIZE = 60;

    public static String display(String chunkname) {
        if (chunkname.isEmpty()) {
            return "[string \"\"]";
        }
        char c = chunkname.charAt(0);
        if (c == '=' || c == '@') {
            return chunkname.substring(1);
        }
        byte[] b = chunkname.getBytes(StandardCharsets.UTF_8);
        int len = 0;
        while (len < IDSIZE - 12 && len < b.length && (b[len] & 0xff) >= ' ') {
            len++;
        }
        StringBuilder sb = new StringBuilder(IDSIZE).append("[string \"");
        if (len < b.length) {
            len = Math.min(len, IDSIZE - 15);
            sb.append(new String(b, 0, len, StandardCharsets.UTF_8)).append("...");
        } else {
            sb.append(chunkname);
        }
        return sb.append("\"]").toString();
    }
}
