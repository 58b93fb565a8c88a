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
                        .equals("fib (bench.lua:3)")).count();
        assertThat(fibLocations).isEqualTo(1);
        assertThat(d.getStackTableCount()).isEqualTo(1 + 4);
    }

    @Test
    void mappingsCarryModuleAndBuildIdWhenKnown() {
        ProfilesDictionary d = ReceivedExport.encoder().encode(twoProcesses()).getDictionary();
        Map<String, List<String>> attrsByFile = new TreeMap<>();
        for (var m : d.getMappingTableList().subList(1, d.getMappingTableCount())) {
            attrsByFile.put(d.getStringTable(m.getFilenameStrindex()), m.getAttributeIndicesList().stream()
                    .map(d::getAttributeTable)
                    .map(kv -> d.getStringTable(kv.getKeyStrindex()) + "=" + kv.getValue().getStringValue())
                    .toList());
        }
        assertThat(attrsByFile).containsExactlyEntriesOf(new TreeMap<>(Map.of(
                "/usr/sbin/nginx", List.of("process.executable.build_id.gnu=deadbeefcafe"),
                "/usr/lib/x86_64-linux-gnu/libc.so.6", List.of(),
                "/usr/bin/luajit-2.1", List.of(),
                "[kernel.kallsyms]", List.of())));
    }

    @Test
    void equalEntriesMergeRegardlessOfLabelOrderAndEmptyOnesAreCounted() {
        Map<String, String> ab = new LinkedHashMap<>();
        ab.put("a", "1");
        ab.put("b", "2");
        Map<String, String> ba = new LinkedHashMap<>();
        ba.put("b", "2");
        ba.put("a", "1");
        var frames = List.of(nginx("main"), lua("f (x.lua:1)"));
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
                List.of(new io.moonwalk.agent.profile.Frame(io.moonwalk.agent.profile.FrameKind.NATIVE, "", "")),
                Map.of("thread.name", "spoofed"), 1)));
        ExportProfilesServiceRequest req = ReceivedExport.encoder().encode(p);
        assertThat(OtlpValidator.validate(req)).isEmpty();
        DecodedEntry e = DecodedEntry.decode(req).getFirst();
        assertThat(e.attributes()).containsExactly(Map.entry("thread.name", "nginx"));
        assertThat(e.frames().getFirst().name()).isEqualTo("[unknown]");
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
        assertThat(decoded).contains("stack_table {", "location_indices: ", "\"json_encode (cjson.lua:88)\"");
        ExportProfilesServiceRequest.Builder back = ExportProfilesServiceRequest.newBuilder();
        TextFormat.merge(decoded, back);
        assertThat(back.build()).isEqualTo(req);
    }
}
