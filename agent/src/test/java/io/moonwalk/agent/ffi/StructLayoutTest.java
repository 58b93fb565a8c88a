package io.moonwalk.agent.ffi;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bound struct against the C compiler: a program generated from the Java layouts prints
 * sizeof and the offsetof of every named member, gcc compiles it against the installed headers.
 */
@Tag("kernel")
class StructLayoutTest {
    /** C struct name -> its Java LAYOUT. */
    private static final Map<String, GroupLayout> STRUCTS = new LinkedHashMap<>();

    static {
        STRUCTS.put("bpf_object_open_opts", bpf_object_open_opts.LAYOUT);
        STRUCTS.put("perf_event_attr", perf_event_attr.LAYOUT);
        STRUCTS.put("bpf_prog_info", bpf_prog_info.LAYOUT);
    }

    /** Members that stand for a C bitfield word: offsetof cannot name them. */
    private static final Set<String> BITFIELD_WORDS = Set.of("perf_event_attr.flags", "bpf_prog_info.gpl_compatible");

    @Test
    void layoutsMatchTheCHeaders(@TempDir Path dir) throws Exception {
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <bpf/libbpf.h>
                #include <bpf/bpf.h>
                #include <linux/perf_event.h>
                #include <linux/bpf.h>
                int main(void) {
                """);
        int checked = 0;
        for (var e : STRUCTS.entrySet()) {
            String s = e.getKey();
            c.append("  printf(\"%s sizeof %zu\\n\", \"").append(s).append("\", sizeof(struct ").append(s).append("));\n");
            for (MemoryLayout m : e.getValue().memberLayouts()) {
                if (m instanceof PaddingLayout || m.name().isEmpty() || BITFIELD_WORDS.contains(s + "." + m.name().get())) {
                    continue;
                }
                String f = m.name().get();
                c.append("  printf(\"%s %s %zu\\n\", \"").append(s).append("\", \"").append(f)
                        .append("\", offsetof(struct ").append(s).append(", ").append(f).append("));\n");
                checked++;
            }
        }
        c.append("  return 0;\n}\n");
        Path src = dir.resolve("layouts.c");
        Files.writeString(src, c);
        Path exe = dir.resolve("layouts");
        run(dir, "gcc", "-o", exe.toString(), src.toString());
        Map<String, Long> actual = new HashMap<>();
        for (String line : run(dir, exe.toString()).split("\n")) {
            String[] p = line.trim().split(" ");
            actual.put(p[0] + "." + p[1], Long.parseLong(p[2]));
        }

        for (var e : STRUCTS.entrySet()) {
            String s = e.getKey();
            GroupLayout layout = e.getValue();
            assertThat(layout.byteSize()).as("sizeof(struct %s)", s).isEqualTo(actual.get(s + ".sizeof"));
            long offset = 0;
            for (MemoryLayout m : layout.memberLayouts()) {
                String key = s + "." + m.name().orElse("");
                if (actual.containsKey(key)) {
                    assertThat(offset).as("offsetof(struct %s, %s)", s, m.name().get()).isEqualTo(actual.get(key));
                }
                offset += m.byteSize();
            }
        }
        assertThat(checked).as("members compared").isGreaterThan(50);
    }

    static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s failed:%n%s", String.join(" ", cmd), out).isZero();
        return out;
    }
}
