package io.moonwalk.luajit.naming;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Display of chunk names; the live tests also compare with LuaJIT's own short_src. */
@Tag("pure")
class ChunkNamesTest {
    @Test
    void displayConvention() {
        assertThat(ChunkNames.display("@/srv/app.lua")).isEqualTo("/srv/app.lua");
        assertThat(ChunkNames.display("=content_by_lua(nginx.conf:12)")).isEqualTo("content_by_lua(nginx.conf:12)");
        assertThat(ChunkNames.display("return 1")).isEqualTo("[string \"return 1\"]");
        assertThat(ChunkNames.display("return 1\nreturn 2")).isEqualTo("[string \"return 1...\"]");
        assertThat(ChunkNames.display("x".repeat(48))).isEqualTo("[string \"" + "x".repeat(48) + "\"]");
        assertThat(ChunkNames.display("x".repeat(49))).isEqualTo("[string \"" + "x".repeat(45) + "...\"]");
        assertThat(ChunkNames.display("")).isEqualTo("[string \"\"]");
        String longPath = "@/" + "d/".repeat(100) + "f.lua";
        assertThat(ChunkNames.display(longPath)).as("full path, no LuaJIT 60-byte cut").isEqualTo(longPath.substring(1));
    }
}
