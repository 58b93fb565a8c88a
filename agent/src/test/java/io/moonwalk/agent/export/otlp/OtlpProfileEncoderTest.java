package io.moonwalk.agent.export.otlp;

import org.junit.jupiter.api.Tag;
import com.google.protobuf.TextFormat;
import io.moonwalk.agent.profile.Profile;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static io.moonwalk.agent.export.otlp.TestProfiles.*;
import static org.assertj.core.api.Assertions.assertThat;

@Tag("tools")
class OtlpProfileEncoderTest {

    @Test
    void encodedRequestSurvivesTheWireAndRepresentsEveryEntry() throws Exception {
        Profile input = twoProcesses();
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(input);
        ExportProfilesServiceRequest parsed = ExportProfilesServiceRequest.parseFrom(req.toByteArray());
        ReceivedExport.assertRepresents(parsed, input);
    }

    @Test
    void stacksAreLeafFirstAndShared() {
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(twoProcesses());
        ProfilesDictionary d = req.getDictionary();
        var nginxProfile = req.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0);
        // second entry of the nginx process: the syscall stack, leaf do_epoll_wait
        var stack = d.getStackTable(nginxProfile.getSamples(1).getStackIndex());
        int leafFunction = d.getLocationTable(stack.getLocationIndices(0)).getLines(0).getFunctionIndex();
        assertThat(d.getStringTable(d.getFunctionTable(leafFunction).getNameStrindex())).isEqualTo("do_epoll_wait");

        // the luajit process has two entries with the same frames but different threads: one stack, two samples
        var luajitProfile = req.getResourceProfiles(1).getScopeProfiles(0).getProfiles(0);
        assertThat(luajitProfile.getSamples(0).getStackIndex()).isEqualTo(luajitProfile.getSamples(1).getStackIndex());
        assertThat(luajitProfile.getSamples(0).getAttributeIndicesList())
                .isNotEqualTo(luajitProfile.getSamples(1).getAttributeIndicesList());

        // "fib" recursion and reuse across stacks collapse into one location; libc's __libc_start_main
        // is shared by both processes and also has one location
        long fibLocations = d.getLocationTableList().stream().skip(1)
                .filter(l -> d.getStringTable(d.getFunctionTable(l.getLines(0).getFunctionIndex()).getNameStrindex())
                        .equals("fib")).count();
        assertThat(fibLocations).isEqualTo(1);
        assertThat(d.getStackTableCount()).isEqualTo(1 + 4);
    }

    @Test
    void mappingsCarryRangeOffsetFileAndBuildIdWhenKnown() {
        ProfilesDictionary d = ReceivedExport.encoder().encode(twoProcesses()).getDictionary();
        Map<String, String> byFile = new TreeMap<>();
        for (var m : d.getMappingTableList().subList(1, d.getMappingTableCount())) {
            byFile.put(d.getStringTable(m.getFilenameStrindex()), String.format("%x-%x@%x %s", m.getMemoryStart(),
                    m.getMemoryLimit(), m.getFileOffset(), m.getAttributeIndicesList().stream()
                            .map(d::getAttributeTable)
                            .map(kv -> d.getStringTable(kv.getKeyStrindex()) + "=" + kv.getValue().getStringValue())
                            .toList()));
        }
        assertThat(byFile).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                "/usr/sbin/nginx", "555555556000-555555656000@2000 [process.executable.build_id.gnu=deadbeefcafe]",
                "/usr/lib/x86_64-linux-gnu/libc.so.6", "7f0010028000-7f001017d000@28000 "
                        + "[process.executable.build_id.htlhash=0f1e2d3c4b5a69788796a5b4c3d2e1f0]",
                "/usr/bin/luajit-2.1", "560000004000-560000084000@4000 [process.executable.build_id.gnu=0123abcd]",
                "[kernel.kallsyms]", "ffffffff81000000-ffffffff83000000@0 "
                        + "[process.executable.build_id.gnu=7dd4ff0789e05e14285320129149da2555ca0bfc]")));
    }

    @Test
    void luaLocationsCarryFunctionFileAndLinesAndNativeOnesTheirAddress() {
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(twoProcesses());
        ProfilesDictionary d = req.getDictionary();
        var fib = d.getLocationTableList().stream().filter(l -> l.getLinesCount() == 1 && d.getStringTable(
                d.getFunctionTable(l.getLines(0).getFunctionIndex()).getNameStrindex()).equals("fib")).toList();
        assertThat(fib).hasSize(1);
        var fn = d.getFunctionTable(fib.getFirst().getLines(0).getFunctionIndex());
        assertThat(d.getStringTable(fn.getFilenameStrindex())).isEqualTo("bench.lua");
        assertThat(fn.getStartLine()).isEqualTo(2);
        assertThat(fib.getFirst().getLines(0).getLine()).isEqualTo(3);
        assertThat(fib.getFirst().getMappingIndex()).isZero();
        assertThat(fib.getFirst().getAddress()).isZero();
        var epoll = d.getLocationTableList().stream().filter(l -> l.getLinesCount() == 1 && d.getStringTable(
                d.getFunctionTable(l.getLines(0).getFunctionIndex()).getNameStrindex()).equals("epoll_wait"))
                .findFirst().orElseThrow();
        assertThat(epoll.getAddress()).isEqualTo(libc("epoll_wait").address()).isNotZero();
        assertThat(d.getStringTable(d.getMappingTable(epoll.getMappingIndex()).getFilenameStrindex()))
                .isEqualTo("/usr/lib/x86_64-linux-gnu/libc.so.6");
    }

    @Test
    void anUnresolvedNativeAddressIsSentForTheBackendToSymbolize() {
        Profile p = new Profile(START, DURATION, PERIOD, List.of(new Profile.Entry(NGINX, "nginx",
                List.of(nginx("main"), io.moonwalk.frame.Frame.nativeCode("", 0x5555_5560_0123L, NGINX_TEXT)),
                Map.of(), 1)));
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(p);
        assertThat(OtlpValidator.validate(req)).isEmpty();
        ProfilesDictionary d = req.getDictionary();
        var leaf = d.getLocationTable(d.getStackTable(req.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0)
                .getSamples(0).getStackIndex()).getLocationIndices(0));
        assertThat(leaf.getLinesCount()).isZero();
        assertThat(leaf.getAddress()).isEqualTo(0x5555_5560_0123L);
        assertThat(d.getMappingTable(leaf.getMappingIndex()).getMemoryStart()).isEqualTo(NGINX_TEXT.start());
    }

    @Test
    void traceNumbersAreIntsAndKernelThreadsHaveNoExecutable() {
        var kthread = new io.moonwalk.agent.profile.ProcessIdentity(91, "kworker/0:1", "", "");
        Profile p = new Profile(START, DURATION, PERIOD, List.of(
                new Profile.Entry(kthread, "kworker/0:1", List.of(kernel("worker_thread")), Map.of(), 3),
                new Profile.Entry(NGINX, "nginx", List.of(nginx("main"), jit("f", "x.lua", 4, 1)),
                        Map.of("luajit.trace", "17", "luajit.vm_state", "compiled"), 2)));
        ExportProfilesServiceRequest req = new OtlpProfileEncoder("h", Map.of(), "v", Map.of(),
                java.util.Set.of("luajit.trace")).encode(p);
        assertThat(OtlpValidator.validate(req)).isEmpty();
        var kres = DecodedEntry.resource(req.getResourceProfiles(0));
        assertThat(kres).doesNotContainKeys("process.executable.name", "process.executable.path");
        assertThat(kres.get("service.name").getStringValue()).isEqualTo("unknown_service");
        var nres = DecodedEntry.resource(req.getResourceProfiles(1));
        assertThat(nres.get("service.name").getStringValue()).isEqualTo("unknown_service:nginx");
        ProfilesDictionary d = req.getDictionary();
        var sample = req.getResourceProfiles(1).getScopeProfiles(0).getProfiles(0).getSamples(0);
        Map<String, io.opentelemetry.proto.common.v1.AnyValue> attrs = new TreeMap<>();
        for (int a : sample.getAttributeIndicesList()) {
            attrs.put(d.getStringTable(d.getAttributeTable(a).getKeyStrindex()), d.getAttributeTable(a).getValue());
        }
        assertThat(attrs.get("luajit.trace").hasIntValue()).isTrue();
        assertThat(attrs.get("luajit.trace").getIntValue()).isEqualTo(17);
        assertThat(attrs.get("luajit.vm_state").getStringValue()).isEqualTo("compiled");
    }

    @Test
    void luaFrameTypeIsLuajitUnlessOverridden() {
        Profile p = new Profile(START, DURATION, PERIOD, List.of(new Profile.Entry(NGINX, "nginx",
                List.of(nginx("main"), lua("f", "x.lua", 4, 1)), Map.of(), 1)));
        assertThat(frameTypes(new OtlpProfileEncoder("h", Map.of(), "v").encode(p))).containsExactly("luajit", "native");
        assertThat(frameTypes(new OtlpProfileEncoder("h", Map.of(), "v", Map.of("luajit", "native"), java.util.Set.of())
                .encode(p))).containsExactly("native");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new OtlpProfileEncoder("h", Map.of(), "v",
                Map.of("luajit", "Not A Type"), java.util.Set.of())).isInstanceOf(IllegalArgumentException.class);
    }

    private static java.util.Set<String> frameTypes(ExportProfilesServiceRequest req) {
        ProfilesDictionary d = req.getDictionary();
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (var l : d.getLocationTableList().subList(1, d.getLocationTableCount())) {
            for (int a : l.getAttributeIndicesList()) {
                if (d.getStringTable(d.getAttributeTable(a).getKeyStrindex()).equals("profile.frame.type")) {
                    out.add(d.getAttributeTable(a).getValue().getStringValue());
                }
            }
        }
        return out;
    }

    @Test
    void equalEntriesMergeRegardlessOfLabelOrderAndEmptyOnesAreCounted() {
        Map<String, String> ab = new LinkedHashMap<>();
        ab.put("a", "1");
        ab.put("b", "2");
        Map<String, String> ba = new LinkedHashMap<>();
        ba.put("b", "2");
        ba.put("a", "1");
        var frames = List.of(nginx("main"), lua("f", "x.lua", 1, 1));
        Profile p = new Profile(START, DURATION, PERIOD, List.of(
                new Profile.Entry(NGINX, "nginx", frames, ab, 5),
                new Profile.Entry(NGINX, "nginx", frames, ba, 6),
                new Profile.Entry(NGINX, "nginx", List.of(), Map.of(), 9),
                new Profile.Entry(NGINX, "nginx", frames, Map.of(), 0)));
        OtlpProfileEncoder encoder = ReceivedExport.encoder();
        ExportProfilesServiceRequest req = encoder.encode(p);
        assertThat(OtlpValidator.validate(req)).isEmpty();
        var samples = req.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0).getSamplesList();
        assertThat(samples).hasSize(1);
        assertThat(samples.get(0).getValuesList()).containsExactly(11L);
        assertThat(encoder.skippedEntries()).isEqualTo(2);
    }

    @Test
    void labelCannotShadowThreadNameAndUnnamedFramesStayVisible() {
        Profile p = new Profile(START, DURATION, PERIOD, List.of(new Profile.Entry(NGINX, "nginx",
                List.of(io.moonwalk.frame.Frame.interpreted("luajit", "", "", 0, 0, false)),
                Map.of("thread.name", "spoofed"), 1)));
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(p);
        assertThat(OtlpValidator.validate(req)).isEmpty();
        DecodedEntry e = DecodedEntry.decode(req).getFirst();
        assertThat(e.attributes()).containsExactly(Map.entry("thread.name", "nginx"));
        assertThat(e.frames().getFirst().function()).isEqualTo("[unknown]");
    }

    @Test
    void emptyProfileGivesNoResources() {
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(new Profile(START, DURATION, PERIOD, List.of()));
        assertThat(req.getResourceProfilesCount()).isZero();
        assertThat(OtlpValidator.validate(req)).isEmpty();
    }

    /** protoc, built from the upstream .proto files in the jar, decodes our bytes to the same message. */
    @Test
    void protocDecodesTheWireBytesIdentically(@TempDir Path dir) throws Exception {
        String[] protos = {
                "opentelemetry/proto/common/v1/common.proto",
                "opentelemetry/proto/resource/v1/resource.proto",
                "opentelemetry/proto/profiles/v1development/profiles.proto",
                "opentelemetry/proto/collector/profiles/v1development/profiles_service.proto"};
        for (String proto : protos) {
            try (InputStream in = ExportProfilesServiceRequest.class.getClassLoader().getResourceAsStream(proto)) {
                assertThat(in).as("%s in the opentelemetry-proto jar", proto).isNotNull();
                Path target = dir.resolve(proto);
                Files.createDirectories(target.getParent());
                Files.copy(in, target);
            }
        }
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(twoProcesses());
        Path bin = dir.resolve("req.bin");
        Files.write(bin, req.toByteArray());
        Path txt = dir.resolve("req.txt");
        Process protoc = new ProcessBuilder("protoc", "-I", dir.toString(),
                "--decode=opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest", protos[3])
                .redirectInput(bin.toFile()).redirectOutput(txt.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        assertThat(protoc.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(protoc.exitValue()).isZero();
        String decoded = Files.readString(txt, StandardCharsets.UTF_8);
        assertThat(decoded).contains("stack_table {", "location_indices: ", "\"json_encode\"",
                "\"/usr/share/lua/cjson.lua\"", "start_line: 80", "line: 88", "memory_start: 93824992239616",
                "\"process.executable.build_id.gnu\"", "\"deadbeefcafe\"");
        ExportProfilesServiceRequest.Builder back = ExportProfilesServiceRequest.newBuilder();
        TextFormat.merge(decoded, back);
        assertThat(back.build()).isEqualTo(req);
        // the fields as protoc decoded them: Lua function, chunk, start and current line; native address + mapping
        ProfilesDictionary d = back.getDictionary();
        var json = d.getLocationTableList().stream().filter(l -> l.getLinesCount() == 1 && d.getStringTable(
                d.getFunctionTable(l.getLines(0).getFunctionIndex()).getNameStrindex()).equals("json_encode"))
                .findFirst().orElseThrow();
        var fn = d.getFunctionTable(json.getLines(0).getFunctionIndex());
        assertThat(d.getStringTable(fn.getFilenameStrindex())).isEqualTo("/usr/share/lua/cjson.lua");
        assertThat(fn.getStartLine()).isEqualTo(80);
        assertThat(json.getLines(0).getLine()).isEqualTo(88);
        var main = d.getLocationTableList().stream().filter(l -> l.getLinesCount() == 1 && d.getStringTable(
                d.getFunctionTable(l.getLines(0).getFunctionIndex()).getNameStrindex()).equals("main")
                && l.getAddress() == nginx("main").address()).findFirst().orElseThrow();
        var m = d.getMappingTable(main.getMappingIndex());
        assertThat(m.getMemoryStart()).isEqualTo(0x5555_5555_6000L);
        assertThat(m.getMemoryLimit()).isEqualTo(0x5555_5565_6000L);
        assertThat(m.getFileOffset()).isEqualTo(0x2000);
        assertThat(d.getStringTable(m.getFilenameStrindex())).isEqualTo("/usr/sbin/nginx");
    }

    @Test
    void anOffCpuProfileNamesItsSampleTypeAndHasNoPeriod() {
        Profile cpu = twoProcesses();
        Profile off = new Profile(cpu.startEpochNanos(), cpu.durationNanos(), 0, cpu.entries(),
                io.moonwalk.agent.profile.SampleType.OFF_CPU);
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(off);
        ProfilesDictionary d = req.getDictionary();
        var p = req.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0);
        assertThat(d.getStringTable(p.getSampleType().getTypeStrindex())).isEqualTo("off_cpu");
        assertThat(d.getStringTable(p.getSampleType().getUnitStrindex())).isEqualTo("nanoseconds");
        assertThat(p.hasPeriodType()).isFalse();
        assertThat(p.getPeriod()).isZero();
        var cp = ReceivedExport.encoder().encode(cpu).getResourceProfiles(0).getScopeProfiles(0).getProfiles(0);
        assertThat(cp.hasPeriodType()).isTrue();
    }

    /** A window with --off-cpu: one request, per process a CPU and an off-CPU profile over one dictionary. */
    @Test
    void aWindowsCpuAndOffCpuProfilesGoInOneRequest() throws Exception {
        Profile cpu = twoProcesses();
        // only the nginx process blocked: 25 ms in epoll_wait
        Profile.Entry e = cpu.entries().get(1);
        Profile off = new Profile(cpu.startEpochNanos(), cpu.durationNanos(), 0,
                List.of(new Profile.Entry(e.process(), e.threadName(), e.frames(), Map.of(), 25_000_000L)),
                io.moonwalk.agent.profile.SampleType.OFF_CPU);
        ExportProfilesServiceRequest req = ExportProfilesServiceRequest.parseFrom(
                ReceivedExport.encoder().encode(List.of(cpu, off)).toByteArray());
        assertThat(OtlpValidator.validate(req)).isEmpty();
        ProfilesDictionary d = req.getDictionary();
        Map<String, List<String>> typesByProcess = new TreeMap<>();
        long blocked = 0;
        for (var rp : req.getResourceProfilesList()) {
            String pid = rp.getResource().getAttributesList().stream().filter(kv -> kv.getKey().equals("process.pid"))
                    .map(kv -> String.valueOf(kv.getValue().getIntValue())).findFirst().orElseThrow();
            assertThat(rp.getScopeProfilesCount()).isEqualTo(1);
            for (var p : rp.getScopeProfiles(0).getProfilesList()) {
                String type = d.getStringTable(p.getSampleType().getTypeStrindex()) + "/"
                        + d.getStringTable(p.getSampleType().getUnitStrindex());
                typesByProcess.computeIfAbsent(pid, k -> new java.util.ArrayList<>()).add(type);
                if (type.startsWith("off_cpu")) {
                    blocked += p.getSamplesList().stream().mapToLong(s -> s.getValues(0)).sum();
                    assertThat(p.hasPeriodType()).isFalse();
                    // the same stack as the CPU sample of that entry: shared in the dictionary
                    int leaf = d.getLocationTable(d.getStackTable(p.getSamples(0).getStackIndex()).getLocationIndices(0))
                            .getLines(0).getFunctionIndex();
                    assertThat(d.getStringTable(d.getFunctionTable(leaf).getNameStrindex()))
                            .isEqualTo("do_epoll_wait");
                }
            }
        }
        assertThat(typesByProcess).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                String.valueOf(NGINX.pid()), List.of("samples/count", "off_cpu/nanoseconds"),
                String.valueOf(LUAJIT.pid()), List.of("samples/count"))));
        assertThat(blocked).isEqualTo(25_000_000L);
        // the CPU profile alone encodes as before
        ReceivedExport.assertRepresents(ExportProfilesServiceRequest.parseFrom(
                ReceivedExport.encoder().encode(List.of(cpu)).toByteArray()), cpu);
    }
}
