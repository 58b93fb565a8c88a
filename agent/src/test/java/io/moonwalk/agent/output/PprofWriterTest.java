package io.moonwalk.agent.output;

import org.junit.jupiter.api.Tag;
import com.google.perftools.profiles.ProfileProto;
import io.moonwalk.agent.profile.Profile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

@Tag("tools")
class PprofWriterTest {

    private static byte[] writeAndGunzip(Profile profile, Path dir) throws IOException {
        Path file = dir.resolve("cpu.pb.gz");
        OutputFormat.forPath(file).newWriter().writeFile(profile, file);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    @Test
    void protocDecodesTheFile(@TempDir Path dir) throws Exception {
        byte[] raw = writeAndGunzip(SampleProfiles.small(), dir);
        ExternalTool.Result r = ExternalTool.run(List.of("protoc", "--decode=perftools.profiles.Profile",
                "--proto_path=" + Path.of("src/main/proto").toAbsolutePath(), "profile.proto"), raw, null, 30);
        assertThat(r.exitCode()).as("protoc stderr: %s", r.stderr()).isZero();
        String text = r.stdout();
        assertThat(count(text, "^sample \\{$")).isEqualTo(5);
        assertThat(firstMatch(text, "^string_table: (.*)$")).isEqualTo("\"\"");
        for (String s : new String[] {"samples", "count", "cpu", "nanoseconds", "fib", "fib_[j]", "handler",
                "/etc/nginx/app.lua", "stdin", "schedule_[k]", "[kernel.kallsyms]", "ngx_http_handler", "/usr/sbin/nginx",
                "deadbeefcafe", "7dd4ff0789e05e14285320129149da2555ca0bfc",
                "[unknown]", "pid", "process", "thread", "vmstate", "trace", "worker-2", "moonwalk"}) {
            assertThat(text).contains("string_table: \"" + s.replace("\"", "\\\"") + "\"");
        }
        assertThat(text).contains("period: " + SampleProfiles.PERIOD);
        // the nginx mapping with its range and offset, and a native location's address
        assertThat(text).contains("memory_start: " + SampleProfiles.NGINX_TEXT.start(),
                "memory_limit: " + SampleProfiles.NGINX_TEXT.limit(), "file_offset: " + SampleProfiles.NGINX_TEXT.offset(),
                "address: " + SampleProfiles.HANDLER.address(), "start_line: 10");
        assertThat(text).contains("time_nanos: " + SampleProfiles.START);
        assertThat(text).contains("duration_nanos: " + SampleProfiles.DURATION);
        // Values of all samples: count and count*period.
        Matcher m = Pattern.compile("^  value: (\\d+)$", Pattern.MULTILINE).matcher(text);
        long samples = 0;
        long nanos = 0;
        for (int i = 0; m.find(); i++) {
            if (i % 2 == 0) {
                samples += Long.parseLong(m.group(1));
            } else {
                nanos += Long.parseLong(m.group(1));
            }
        }
        assertThat(samples).isEqualTo(72);
        assertThat(nanos).isEqualTo(72 * SampleProfiles.PERIOD);
    }

    @Test
    void everyReferenceIsInRangeAndTotalsMatch(@TempDir Path dir) throws IOException {
        for (Profile profile : List.of(SampleProfiles.small(), SampleProfiles.withHostileName(),
                SampleProfiles.large(3000, 11))) {
            ProfileProto.Profile p = ProfileProto.Profile.parseFrom(writeAndGunzip(profile, dir));
            checkConsistent(p);
            assertThat(p.getSampleCount()).isEqualTo(profile.entries().size());
            assertThat(p.getSampleList().stream().mapToLong(s -> s.getValue(0)).sum())
                    .isEqualTo(profile.totalSamples());
            assertThat(p.getSampleList().stream().mapToLong(s -> s.getValue(1)).sum())
                    .isEqualTo(profile.totalSamples() * profile.periodNanos());
            long distinctFrames = profile.entries().stream().flatMap(e -> e.frames().stream()).distinct().count();
            assertThat(p.getLocationCount()).isEqualTo(distinctFrames);
        }
    }

    @Test
    void mapsFramesSamplesAndLabelsAsDocumented() {
        ProfileProto.Profile p = PprofWriter.toProto(SampleProfiles.small());
        List<String> st = p.getStringTableList();
        assertThat(st.get(p.getSampleType(0).getType() > 0 ? (int) p.getSampleType(0).getType() : 0)).isEqualTo("samples");
        assertThat(st.get((int) p.getSampleType(1).getType())).isEqualTo("cpu");
        assertThat(st.get((int) p.getSampleType(1).getUnit())).isEqualTo("nanoseconds");
        assertThat(st.get((int) p.getPeriodType().getType())).isEqualTo("cpu");
        assertThat(st.get((int) p.getComment(0))).isEqualTo("moonwalk");

        Map<Long, ProfileProto.Location> locations = new HashMap<>();
        p.getLocationList().forEach(l -> locations.put(l.getId(), l));
        Map<Long, ProfileProto.Function> functions = new HashMap<>();
        p.getFunctionList().forEach(f -> functions.put(f.getId(), f));
        Map<Long, ProfileProto.Mapping> mappings = new HashMap<>();
        p.getMappingList().forEach(m -> mappings.put(m.getId(), m));

        // First sample: nginx Lua stack, leaf first: fib (JIT) <- handler <- ngx_http_handler <- main.
        ProfileProto.Sample s0 = p.getSample(0);
        assertThat(s0.getValueList()).containsExactly(30L, 30 * SampleProfiles.PERIOD);
        List<String> names = s0.getLocationIdList().stream()
                .map(id -> st.get((int) functions.get(locations.get(id).getLine(0).getFunctionId()).getName()))
                .toList();
        assertThat(names).containsExactly("fib", "handler", "ngx_http_handler", "main");
        ProfileProto.Location fib = locations.get(s0.getLocationId(0));
        ProfileProto.Function fibFn = functions.get(fib.getLine(0).getFunctionId());
        assertThat(st.get((int) fibFn.getSystemName())).isEqualTo("fib_[j]");
        assertThat(st.get((int) fibFn.getFilename())).isEqualTo("/etc/nginx/app.lua");
        assertThat(fibFn.getStartLine()).isEqualTo(1);
        assertThat(fib.getLine(0).getLine()).isEqualTo(3);
        // Lua locations have no address and no mapping: the chunk is a file name, not mapped memory.
        assertThat(fib.getMappingId()).isZero();
        assertThat(fib.getAddress()).isZero();
        ProfileProto.Location handler = locations.get(s0.getLocationId(1));
        assertThat(st.get((int) functions.get(handler.getLine(0).getFunctionId()).getName())).isEqualTo("handler");
        assertThat(functions.get(handler.getLine(0).getFunctionId()).getStartLine()).isEqualTo(10);
        assertThat(handler.getLine(0).getLine()).isEqualTo(12);
        // Native locations: their address in the mapping with range, offset, path and build id.
        ProfileProto.Location ngx = locations.get(s0.getLocationId(2));
        assertThat(ngx.getAddress()).isEqualTo(SampleProfiles.HANDLER.address());
        ProfileProto.Mapping nginx = mappings.get(ngx.getMappingId());
        assertThat(st.get((int) nginx.getFilename())).isEqualTo("/usr/sbin/nginx");
        assertThat(nginx.getMemoryStart()).isEqualTo(SampleProfiles.NGINX_TEXT.start());
        assertThat(nginx.getMemoryLimit()).isEqualTo(SampleProfiles.NGINX_TEXT.limit());
        assertThat(nginx.getFileOffset()).isEqualTo(SampleProfiles.NGINX_TEXT.offset());
        assertThat(st.get((int) nginx.getBuildId())).isEqualTo("deadbeefcafe");
        assertThat(nginx.getHasFunctions()).isTrue();

        Map<String, String> labels = new HashMap<>();
        for (ProfileProto.Label l : s0.getLabelList()) {
            labels.put(st.get((int) l.getKey()), l.getStr() != 0 ? st.get((int) l.getStr()) : "#" + l.getNum());
        }
        assertThat(labels).containsExactlyInAnyOrderEntriesOf(
                Map.of("pid", "#4242", "process", "nginx", "thread", "nginx", "vmstate", "trace"));

        // Kernel frames land in the [kernel.kallsyms] mapping with the _[k] system name.
        ProfileProto.Sample kernel = p.getSample(3);
        ProfileProto.Location schedule = locations.get(kernel.getLocationId(0));
        assertThat(st.get((int) mappings.get(schedule.getMappingId()).getFilename())).isEqualTo("[kernel.kallsyms]");
        ProfileProto.Function scheduleFn = functions.get(schedule.getLine(0).getFunctionId());
        assertThat(st.get((int) scheduleFn.getName())).isEqualTo("schedule");
        assertThat(st.get((int) scheduleFn.getSystemName())).isEqualTo("schedule_[k]");

        assertThat(schedule.getAddress()).isEqualTo(SampleProfiles.K_SCHEDULE.address());

        // The error frame has no mapping; the Lua frame's file is its chunk as shown (=stdin -> stdin).
        ProfileProto.Sample lj = p.getSample(4);
        assertThat(locations.get(lj.getLocationId(0)).getMappingId()).isZero();
        ProfileProto.Location stdin = locations.get(lj.getLocationId(1));
        assertThat(stdin.getMappingId()).isZero();
        assertThat(st.get((int) functions.get(stdin.getLine(0).getFunctionId()).getFilename())).isEqualTo("stdin");
    }

    /** Plain checks (not one AssertJ call per element: the large profile has ~10^5 references). */
    private static void checkConsistent(ProfileProto.Profile p) {
        int strings = p.getStringTableCount();
        assertThat(p.getStringTable(0)).isEmpty();
        assertThat(new HashSet<>(p.getStringTableList())).as("strings deduplicated").hasSize(strings);
        List<String> problems = new java.util.ArrayList<>();
        Set<Long> mappingIds = new HashSet<>();
        for (ProfileProto.Mapping m : p.getMappingList()) {
            check(problems, m.getId() > 0 && mappingIds.add(m.getId()), "mapping id not positive/unique", m);
            check(problems, inRange(m.getFilename(), 1, strings), "mapping filename", m);
        }
        Set<Long> functionIds = new HashSet<>();
        for (ProfileProto.Function f : p.getFunctionList()) {
            check(problems, f.getId() > 0 && functionIds.add(f.getId()), "function id not positive/unique", f);
            check(problems, inRange(f.getName(), 1, strings) && inRange(f.getSystemName(), 1, strings)
                    && inRange(f.getFilename(), 0, strings), "function string index", f);
        }
        Set<Long> locationIds = new HashSet<>();
        for (ProfileProto.Location l : p.getLocationList()) {
            check(problems, l.getId() > 0 && locationIds.add(l.getId()), "location id not positive/unique", l);
            check(problems, l.getMappingId() == 0 || mappingIds.contains(l.getMappingId()), "location mapping", l);
            check(problems, l.getLineCount() == 1 && functionIds.contains(l.getLine(0).getFunctionId()),
                    "location line/function", l);
        }
        for (ProfileProto.Sample s : p.getSampleList()) {
            check(problems, locationIds.containsAll(s.getLocationIdList()), "sample location ids", s);
            check(problems, s.getValueCount() == p.getSampleTypeCount(), "sample value count", s);
            for (ProfileProto.Label l : s.getLabelList()) {
                check(problems, inRange(l.getKey(), 1, strings) && inRange(l.getStr(), 0, strings), "label", l);
            }
        }
        for (ProfileProto.ValueType vt : p.getSampleTypeList()) {
            check(problems, inRange(vt.getType(), 1, strings) && inRange(vt.getUnit(), 1, strings), "sample type", vt);
        }
        for (long c : p.getCommentList()) {
            check(problems, inRange(c, 1, strings), "comment", c);
        }
        assertThat(problems).isEmpty();
    }

    private static boolean inRange(long index, long min, long size) {
        return index >= min && index < size;
    }

    private static void check(List<String> problems, boolean ok, String what, Object subject) {
        if (!ok && problems.size() < 20) {
            problems.add(what + ": " + subject);
        }
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static String firstMatch(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        assertThat(m.find()).as("%s in protoc output", regex).isTrue();
        return m.group(1);
    }
}
