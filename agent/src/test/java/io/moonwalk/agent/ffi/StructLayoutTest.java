package io.moonwalk.agent.ffi;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.ffi.libbpf.bpf_object_open_opts;
import io.moonwalk.agent.ffi.libbpf.bpf_prog_info;
import io.moonwalk.agent.ffi.libbpf.perf_event_attr;
import io.moonwalk.process.ffi.libc.iovec;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jextract-generated struct layouts and the hand-written bit-field glue against the C compiler:
 * a program generated from the Java layouts prints sizeof and the offsetof of every named member,
 * gcc compiles it against the installed headers. jextract read the same headers with libclang, so
 * for the generated layouts this catches bindings that are stale against the headers installed here
 * (regenerate with scripts/regenerate-ffi); for {@link PerfEventAttrBits}, which jextract cannot
 * generate, it is the only check, as for the per-architecture syscall number in {@link ErrnoCalls}.
 */
@Tag("kernel")
class StructLayoutTest {
    /** C struct name -> its Java LAYOUT. */
    private static final Map<String, GroupLayout> STRUCTS = new LinkedHashMap<>();

    static {
        STRUCTS.put("bpf_object_open_opts", bpf_object_open_opts.layout());
        STRUCTS.put("perf_event_attr", perf_event_attr.layout());
        STRUCTS.put("bpf_prog_info", bpf_prog_info.layout());
        STRUCTS.put("iovec", iovec.layout());
    }

    @Test
    void layoutsMatchTheCHeaders(@TempDir Path dir) throws Exception {
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <string.h>
                #include <stdio.h>
                #include <bpf/libbpf.h>
                #include <bpf/bpf.h>
                #include <linux/perf_event.h>
                #include <linux/bpf.h>
                #include <sys/uio.h>
                #include <sys/syscall.h>
                int main(void) {
                  printf("syscall perf_event_open %ld\\n", (long) SYS_perf_event_open);
                """);
        int checked = 0;
        for (var e : STRUCTS.entrySet()) {
            String s = e.getKey();
            c.append("  printf(\"%s sizeof %zu\\n\", \"").append(s).append("\", sizeof(struct ").append(s).append("));\n");
            for (String f : members(e.getValue(), 0).keySet()) {
                c.append("  printf(\"%s %s %zu\\n\", \"").append(s).append("\", \"").append(f)
                        .append("\", offsetof(struct ").append(s).append(", ").append(f).append("));\n");
                checked++;
            }
        }
        // the bit-field word jextract leaves as padding: set two bits by name, print the word
        c.append("""
                  struct perf_event_attr attr = {0};
                  attr.disabled = 1;
                  attr.freq = 1;
                  unsigned long long word;
                  memcpy(&word, (char *)&attr + %d, sizeof word);
                  printf("perf_event_attr bits %%llu\\n", word);
                  return 0;
                }
                """.formatted(PerfEventAttrBits.OFFSET));
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
            for (var m : members(layout, 0).entrySet()) {
                assertThat(m.getValue()).as("offsetof(struct %s, %s)", s, m.getKey())
                        .isEqualTo(actual.get(s + "." + m.getKey()));
            }
        }
        assertThat(checked).as("members compared").isGreaterThan(50);
        assertThat(actual.get("syscall.perf_event_open")).as("SYS_perf_event_open on " + System.getProperty("os.arch"))
                .isEqualTo(ErrnoCalls.SYS_perf_event_open);
        assertThat(actual.get("perf_event_attr.bits")).as("disabled|freq at byte %d", PerfEventAttrBits.OFFSET)
                .isEqualTo(PerfEventAttrBits.DISABLED | PerfEventAttrBits.FREQ);
        assertThat(perf_event_attr.layout().select(MemoryLayout.PathElement.groupElement("read_format")))
                .isNotNull();
        long afterReadFormat = 0;
        MemoryLayout next = null;
        for (MemoryLayout m : perf_event_attr.layout().memberLayouts()) {
            if (afterReadFormat == PerfEventAttrBits.OFFSET) {
                next = m;
                break;
            }
            afterReadFormat += m.byteSize();
        }
        assertThat(next).as("the generated layout keeps the bit-field word as 8 bytes of padding")
                .isInstanceOf(PaddingLayout.class).extracting(MemoryLayout::byteSize).isEqualTo(8L);
    }

    /**
     * Named members and their offsets; the members of anonymous unions and structs (jextract names
     * them {@code $anon$LINE:COL}) are C members of the enclosing struct and are listed in its place.
     */
    private static Map<String, Long> members(GroupLayout group, long base) {
        Map<String, Long> out = new LinkedHashMap<>();
        long offset = base;
        for (MemoryLayout m : group.memberLayouts()) {
            long at = group instanceof java.lang.foreign.UnionLayout ? base : offset;
            String name = m.name().orElse("");
            if (name.startsWith("$anon$") && m instanceof GroupLayout g) {
                out.putAll(members(g, at));
            } else if (!(m instanceof PaddingLayout) && !name.isEmpty()) {
                out.put(name, at);
            }
            offset += m.byteSize();
        }
        return out;
    }

    static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s failed:%n%s", String.join(" ", cmd), out).isZero();
        return out;
    }
}
