package io.moonwalk.agent.bpf;

import org.junit.jupiter.api.Tag;
import io.moonwalk.bpf.layout.RecordLayout;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RecordLayout against the ground truth: the BTF of the compiled object and the header's values. */
@Tag("kernel")
class RecordLayoutTest {
    private static final Path HEADER = Path.of("../bpf/src/moonwalk.h");
    private static final Path UNWIND_HEADER = Path.of("../bpf/src/unwind.h");
    private static final Pattern STRUCT = Pattern.compile("^\\[\\d+] STRUCT '(\\w+)' size=(\\d+) vlen=(\\d+)");
    private static final Pattern MEMBER = Pattern.compile("^\\s+'([^']+)' type_id=\\d+ bits_offset=(\\d+)");

    record BtfStruct(long size, List<String> names, List<Long> offsets) {}

    private static Map<String, BtfStruct> btf;

    @BeforeAll
    static void dumpBtf(@TempDir Path dir) throws Exception {
        Path obj = dir.resolve("moonwalk.bpf.o");
        try (InputStream in = RecordLayoutTest.class.getResourceAsStream(BpfSampler.OBJECT_RESOURCE)) {
            assertThat(in).as("BPF object on the classpath").isNotNull();
            Files.copy(in, obj);
        }
        Process p = new ProcessBuilder("bpftool", "btf", "dump", "file", obj.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();

        btf = new HashMap<>();
        String[] lines = out.split("\n");
        for (int i = 0; i < lines.length; i++) {
            Matcher s = STRUCT.matcher(lines[i]);
            if (!s.find()) {
                continue;
            }
            int vlen = Integer.parseInt(s.group(3));
            List<String> names = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            for (int m = 1; m <= vlen; m++) {
                Matcher mm = MEMBER.matcher(lines[i + m]);
                assertThat(mm.find()).as("member line %s", lines[i + m]).isTrue();
                names.add(mm.group(1));
                offsets.add(Long.parseLong(mm.group(2)) / 8);
            }
            btf.put(s.group(1), new BtfStruct(Long.parseLong(s.group(2)), names, offsets));
        }
    }

    @Test
    void sampleMatchesBtf() {
        assertMatches(RecordLayout.SAMPLE);
        assertThat(RecordLayout.SAMPLE_HEADER_BYTES).isEqualTo(64);
    }

    @Test
    void exitMatchesBtf() {
        assertMatches(RecordLayout.EXIT);
    }

    @Test
    void configMatchesBtf() {
        assertMatches(RecordLayout.CONFIG);
    }

    @Test
    void pidEventMatchesBtf() {
        assertMatches(RecordLayout.PID_EVENT);
    }

    @Test
    void unwinderMapStructsMatchBtf() {
        assertMatches(RecordLayout.PID_KEY);
        assertMatches(RecordLayout.MAPPING);
        assertMatches(RecordLayout.FILE_TABLE);
        assertMatches(RecordLayout.UNWIND_ENTRY);
        assertMatches(RecordLayout.UNWIND_RULE);
        assertMatches(RecordLayout.WALK_STATE);
    }

    @Test
    void luajitFileMatchesBtf() {
        assertMatches(RecordLayout.LUAJIT_FILE);
    }

    /** The #defines of luajit.h that the agent uses have RecordLayout twins with the same value. */
    @Test
    void luajitConstantsMatchTheHeader() throws Exception {
        String header = Files.readString(Path.of("../bpf/src/luajit.h"));
        Matcher d = Pattern.compile("(?m)^#define MW_(\\w+)\\s+(\\w+)").matcher(header);
        int seen = 0;
        while (d.find()) {
            if (d.group(1).endsWith("_H")) {
                continue;
            }
            Field f = RecordLayout.class.getField(d.group(1));
            assertThat(((Number) f.get(null)).longValue()).as(d.group(1)).isEqualTo(parse(d.group(2)).longValue());
            seen++;
        }
        assertThat(seen).isEqualTo(3);
    }

    /** The map kinds of unwind.h, which the agent writes into pid_maps values. */
    @Test
    void mapKindsMatchTheUnwindHeader() throws Exception {
        String header = Files.readString(UNWIND_HEADER);
        Matcher e = Pattern.compile("(?m)^\\s+MW_MAP_(\\w+) = (\\d+),").matcher(header);
        int seen = 0;
        while (e.find()) {
            Field f = RecordLayout.class.getField("MAP_" + e.group(1));
            assertThat(((Number) f.get(null)).longValue()).as(e.group(1)).isEqualTo(Long.parseLong(e.group(2)));
            seen++;
        }
        assertThat(seen).isEqualTo(3);
    }

    private static void assertMatches(StructLayout layout) {
        String name = layout.name().orElseThrow();
        BtfStruct s = btf.get(name);
        assertThat(s).as("struct %s in the object's BTF", name).isNotNull();
        assertThat(layout.byteSize()).as("sizeof(struct %s)", name).isEqualTo(s.size());
        List<String> names = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        long off = 0;
        for (MemoryLayout m : layout.memberLayouts()) {
            if (!(m instanceof PaddingLayout)) {
                names.add(m.name().orElseThrow());
                offsets.add(off);
            }
            off += m.byteSize();
        }
        assertThat(names).as("members of struct %s", name).isEqualTo(s.names());
        assertThat(offsets).as("member offsets of struct %s", name).isEqualTo(s.offsets());
    }

    /** Every MW_* #define and enum constant in moonwalk.h has a RecordLayout twin with the same value. */
    @Test
    void constantsMatchTheHeader() throws Exception {
        String header = Files.readString(HEADER);
        Map<String, BigInteger> values = new HashMap<>();
        Matcher d = Pattern.compile("(?m)^#define (MW_\\w+)\\s+(.+?)\\s*(/\\*.*)?$").matcher(header);
        while (d.find()) {
            values.put(d.group(1), parse(d.group(2)));
        }
        Matcher e = Pattern.compile("(?m)^\\s+(MW_\\w+) = (\\w+),").matcher(header);
        while (e.find()) {
            values.put(e.group(1), parse(e.group(2)));
        }
        assertThat(values).hasSizeGreaterThanOrEqualTo(47); // as of this writing; guards the regexes
        for (var v : values.entrySet()) {
            String javaName = v.getKey().substring(3);
            Field f = RecordLayout.class.getField(javaName);
            assertThat(Modifier.isStatic(f.getModifiers())).isTrue();
            long actual = ((Number) f.get(null)).longValue();
            assertThat(actual).as("RecordLayout.%s vs %s", javaName, v.getKey()).isEqualTo(v.getValue().longValue());
        }
    }

    private static BigInteger parse(String expr) {
        String x = expr.replaceAll("[()]", "").replaceAll("(?i)(0x[0-9a-f]+|\\d+)U?L*L*", "$1").trim();
        if (x.contains("<<")) {
            String[] p = x.split("<<");
            return parse(p[0]).shiftLeft(parse(p[1]).intValueExact());
        }
        x = x.replaceAll("(?i)u?ll?$", "");
        return x.startsWith("0x") ? new BigInteger(x.substring(2), 16) : new BigInteger(x);
    }
}
