package io.moonwalk.bpf.layout;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RecordLayout against the ground truth: every struct member (name, offset, size) against the BTF of the compiled
 * object, every map's key and value type against the struct the agent writes, and every constant of the shared
 * headers against a C program compiled from those headers.
 */
@Tag("tools") // bpftool and gcc
class RecordLayoutTest {
    /** The headers shared with the agent; kernel-only ones are named *.bpf.h. */
    private static final List<Path> SHARED_HEADERS = List.of(Path.of("src/moonwalk.h"), Path.of("src/unwind.h"),
            Path.of("src/luajit.h"));
    private static final String OBJECT_RESOURCE = "/io/moonwalk/bpf/moonwalk.bpf.o";
    private static final Pattern TYPE = Pattern.compile("^\\[(\\d+)] (\\w+) '([^']*)'(.*)$");
    private static final Pattern MEMBER = Pattern.compile("^\\s+'([^']+)' type_id=(\\d+) bits_offset=(\\d+)");

    record BtfType(String kind, String name, String rest, List<String> memberNames, List<Long> memberOffsets,
            List<Integer> memberTypes) {
        long attr(String key) {
            Matcher m = Pattern.compile("\\b" + key + "=(\\d+)").matcher(rest);
            assertThat(m.find()).as("%s in %s", key, rest).isTrue();
            return Long.parseLong(m.group(1));
        }
    }

    private static final Map<Integer, BtfType> types = new HashMap<>();

    @BeforeAll
    static void dumpBtf(@TempDir Path dir) throws Exception {
        Path obj = dir.resolve("moonwalk.bpf.o");
        try (InputStream in = RecordLayoutTest.class.getResourceAsStream(OBJECT_RESOURCE)) {
            assertThat(in).as("BPF object on the classpath").isNotNull();
            Files.copy(in, obj);
        }
        String out = run(dir, "bpftool", "btf", "dump", "file", obj.toString());
        String[] lines = out.split("\n");
        for (int i = 0; i < lines.length; i++) {
            Matcher t = TYPE.matcher(lines[i]);
            if (!t.find()) {
                continue;
            }
            List<String> names = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            List<Integer> memberTypes = new ArrayList<>();
            if (t.group(2).equals("STRUCT") || t.group(2).equals("UNION")) {
                while (i + 1 < lines.length) {
                    Matcher m = MEMBER.matcher(lines[i + 1]);
                    if (!m.find()) {
                        break;
                    }
                    names.add(m.group(1));
                    memberTypes.add(Integer.parseInt(m.group(2)));
                    offsets.add(Long.parseLong(m.group(3)) / 8);
                    i++;
                }
            }
            types.put(Integer.parseInt(t.group(1)),
                    new BtfType(t.group(2), t.group(3), t.group(4), names, offsets, memberTypes));
        }
        assertThat(types).as("BTF types parsed").hasSizeGreaterThan(100);
    }

    /** Every StructLayout of RecordLayout, by C struct name. */
    private static Map<String, StructLayout> javaLayouts() throws IllegalAccessException {
        Map<String, StructLayout> out = new LinkedHashMap<>();
        for (Field f : RecordLayout.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.get(null) instanceof StructLayout s) {
                out.put(s.name().orElseThrow(), s);
            }
        }
        return out;
    }

    /** Every struct declared in the shared headers has a Java layout, and every Java layout matches BTF. */
    @Test
    void everySharedStructMatchesBtf() throws Exception {
        Set<String> declared = new TreeSet<>();
        for (Path h : SHARED_HEADERS) {
            Matcher m = Pattern.compile("(?m)^struct (mw_\\w+) \\{").matcher(Files.readString(h));
            while (m.find()) {
                declared.add(m.group(1));
            }
        }
        Map<String, StructLayout> java = javaLayouts();
        assertThat(java.keySet()).as("RecordLayout mirrors exactly the structs of the shared headers")
                .containsExactlyInAnyOrderElementsOf(declared);
        for (StructLayout s : java.values()) {
            assertMatches(s);
        }
    }

    /** The agent writes these maps' keys and values with these layouts: the map definitions must agree. */
    @Test
    void mapKeysAndValuesAreTheDeclaredStructs() {
        assertMap("pid_maps", "mw_pid_key", RecordLayout.PID_KEY.byteSize(), "mw_mapping", RecordLayout.MAPPING.byteSize());
        assertMap("unwind_files", null, RecordLayout.FILE_ID_KEY.byteSize(), "mw_file_table",
                RecordLayout.FILE_TABLE.byteSize());
        assertMap("unwind_entries", null, RecordLayout.INDEX_KEY.byteSize(), "mw_unwind_entry",
                RecordLayout.UNWIND_ENTRY.byteSize());
        assertMap("unwind_rules", null, RecordLayout.INDEX_KEY.byteSize(), "mw_unwind_rule",
                RecordLayout.UNWIND_RULE.byteSize());
        assertMap("luajit_files", null, RecordLayout.FILE_ID_KEY.byteSize(), "mw_luajit_file",
                RecordLayout.LUAJIT_FILE.byteSize());
        assertMap("config_map", null, RecordLayout.INDEX_KEY.byteSize(), "mw_config", RecordLayout.CONFIG.byteSize());
        assertMap("scratch", null, RecordLayout.INDEX_KEY.byteSize(), "mw_sample", RecordLayout.SAMPLE.byteSize());
        assertMap("stats", null, RecordLayout.INDEX_KEY.byteSize(), null, Long.BYTES);
        assertMap("mmap_counts", null, RecordLayout.INDEX_KEY.byteSize(), "mw_mmap_counts",
                RecordLayout.MMAP_COUNTS.byteSize());
    }

    /** 72 since the record carries its kind and value (off-CPU nanoseconds); a change here costs ring-buffer bytes. */
    @Test
    void sampleHeaderIsWhatTheKernelSends() {
        assertThat(RecordLayout.SAMPLE_HEADER_BYTES).isEqualTo(72);
    }

    /**
     * Every MW_ constant of the shared headers (#define or enum member) has a RecordLayout twin named without the
     * prefix, with the value a C compiler gives it.
     */
    @Test
    void everySharedConstantMatchesTheCompiledHeaders(@TempDir Path dir) throws Exception {
        Set<String> names = new LinkedHashSet<>();
        for (Path h : SHARED_HEADERS) {
            String text = Files.readString(h);
            Matcher d = Pattern.compile("(?m)^#define (MW_\\w+)[ \\t]+\\S").matcher(text);
            while (d.find()) {
                names.add(d.group(1));
            }
            Matcher e = Pattern.compile("(?m)^\\s+(MW_\\w+)\\s*=").matcher(text);
            while (e.find()) {
                names.add(e.group(1));
            }
        }
        assertThat(names).as("constants found in the headers (guards the regexes)").hasSizeGreaterThan(90);
        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <linux/types.h>\n");
        for (Path h : SHARED_HEADERS) {
            c.append("#include \"").append(h.toAbsolutePath()).append("\"\n");
        }
        c.append("int main(void)\n{\n");
        for (String n : names) {
            c.append("\tprintf(\"%s %lld\\n\", \"").append(n).append("\", (long long)(").append(n).append("));\n");
        }
        c.append("\treturn 0;\n}\n");
        Path src = dir.resolve("constants.c");
        Files.writeString(src, c);
        Path exe = dir.resolve("constants");
        run(dir, "gcc", "-Wall", "-Werror", "-o", exe.toString(), src.toString());
        Map<String, Long> fromC = new LinkedHashMap<>();
        for (String line : run(dir, exe.toString()).split("\n")) {
            String[] p = line.split(" ");
            fromC.put(p[0], Long.parseLong(p[1]));
        }
        assertThat(fromC.keySet()).containsExactlyElementsOf(names);
        for (Map.Entry<String, Long> e : fromC.entrySet()) {
            String javaName = e.getKey().substring("MW_".length());
            Field f;
            try {
                f = RecordLayout.class.getField(javaName);
            } catch (NoSuchFieldException x) {
                throw new AssertionError(e.getKey() + " of the shared headers has no twin RecordLayout." + javaName, x);
            }
            assertThat(Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers())).isTrue();
            assertThat(((Number) f.get(null)).longValue()).as("RecordLayout.%s vs %s", javaName, e.getKey())
                    .isEqualTo(e.getValue());
        }
    }

    private static void assertMap(String map, String keyStruct, long keySize, String valueStruct, long valueSize) {
        BtfType def = types.values().stream()
                .filter(t -> t.kind().equals("VAR") && t.name().equals(map))
                .map(t -> types.get((int) t.attr("type_id")))
                .findFirst().orElseThrow(() -> new AssertionError("map " + map + " not in the object's BTF"));
        assertPointee(map + " key", def, "key", keyStruct, keySize);
        assertPointee(map + " value", def, "value", valueStruct, valueSize);
    }

    private static void assertPointee(String what, BtfType def, String member, String struct, long size) {
        int i = def.memberNames().indexOf(member);
        assertThat(i).as("%s declared with __type", what).isNotNegative();
        BtfType ptr = types.get(def.memberTypes().get(i));
        assertThat(ptr.kind()).isEqualTo("PTR");
        int target = resolve((int) ptr.attr("type_id"));
        BtfType t = types.get(target);
        if (struct != null) {
            assertThat(t.kind() + " " + t.name()).as(what).isEqualTo("STRUCT " + struct);
        }
        assertThat(sizeOf(target)).as("size of the %s", what).isEqualTo(size);
    }

    private static void assertMatches(StructLayout layout) {
        String name = layout.name().orElseThrow();
        List<BtfType> copies = types.values().stream()
                .filter(t -> t.kind().equals("STRUCT") && t.name().equals(name)).toList();
        assertThat(copies).as("struct %s in the object's BTF", name).isNotEmpty();
        List<String> names = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        long off = 0;
        for (MemoryLayout m : layout.memberLayouts()) {
            if (!(m instanceof PaddingLayout)) {
                names.add(m.name().orElseThrow());
                offsets.add(off);
                sizes.add(m.byteSize());
            }
            off += m.byteSize();
        }
        // the linked object may carry one copy per compilation unit: every copy must match
        for (BtfType s : copies) {
            assertThat(layout.byteSize()).as("sizeof(struct %s)", name).isEqualTo(s.attr("size"));
            assertThat(names).as("members of struct %s", name).isEqualTo(s.memberNames());
            assertThat(offsets).as("member offsets of struct %s", name).isEqualTo(s.memberOffsets());
            List<Long> btfSizes = s.memberTypes().stream().map(id -> sizeOf(resolve(id))).toList();
            assertThat(sizes).as("member sizes of struct %s", name).isEqualTo(btfSizes);
        }
    }

    /** Follows typedefs and qualifiers. */
    private static int resolve(int id) {
        BtfType t = types.get(id);
        while (t.kind().equals("TYPEDEF") || t.kind().equals("CONST") || t.kind().equals("VOLATILE")) {
            id = (int) t.attr("type_id");
            t = types.get(id);
        }
        return id;
    }

    private static long sizeOf(int id) {
        BtfType t = types.get(resolve(id));
        return switch (t.kind()) {
            case "INT", "STRUCT", "UNION", "ENUM" -> t.attr("size");
            case "PTR" -> 8;
            case "ARRAY" -> t.attr("nr_elems") * sizeOf((int) t.attr("type_id"));
            default -> throw new AssertionError("unexpected BTF kind " + t.kind());
        };
    }

    private static String run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", cmd[0]).isTrue();
        assertThat(p.exitValue()).as("%s: %s", String.join(" ", cmd), out).isZero();
        return out;
    }
}
