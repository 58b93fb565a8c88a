package io.moonwalk.agent.export.otlp;

import io.moonwalk.agent.profile.Profile;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The checks every test applies to a request a receiver got for {@link TestProfiles#twoProcesses()}. */
final class ReceivedExport {

    static final String HOST = "test-host";

    private ReceivedExport() {
    }

    static OtlpProfileEncoder encoder() {
        return new OtlpProfileEncoder(HOST, Map.of("service.name", "openresty", "deployment.environment.name", "test"),
                "0.1.0-test", Map.of(), java.util.Set.of("luajit.trace"));
    }

    static void assertRepresents(ExportProfilesServiceRequest received, Profile input) {
        assertThat(OtlpValidator.validate(received)).isEmpty();

        List<DecodedEntry> expected = new ArrayList<>();
        for (Profile.Entry e : input.entries()) {
            Map<String, String> attrs = new HashMap<>(e.labels());
            attrs.put("thread.name", e.threadName());
            expected.add(new DecodedEntry(e.process().pid(), attrs, e.frames(), e.count()));
        }
        assertThat(DecodedEntry.decode(received)).containsExactlyInAnyOrderElementsOf(expected);

        assertThat(received.getResourceProfilesList()).hasSize(
                (int) input.entries().stream().map(Profile.Entry::process).distinct().count());
        for (ResourceProfiles rp : received.getResourceProfilesList()) {
            Map<String, AnyValue> res = DecodedEntry.resource(rp);
            long pid = res.get("process.pid").getIntValue();
            var process = input.entries().stream().map(Profile.Entry::process)
                    .filter(p -> p.pid() == pid).findFirst().orElseThrow();
            assertThat(res.get("host.name").getStringValue()).isEqualTo(HOST);
            assertThat(res.get("service.name").getStringValue()).isEqualTo("openresty");
            assertThat(res.get("deployment.environment.name").getStringValue()).isEqualTo("test");
            assertThat(res.get("process.executable.path").getStringValue()).isEqualTo(process.executable());
            assertThat(res.get("process.executable.name").getStringValue())
                    .isEqualTo(process.executable().substring(process.executable().lastIndexOf('/') + 1));
            if (process.containerId().isEmpty()) {
                assertThat(res).doesNotContainKey("container.id");
            } else {
                assertThat(res.get("container.id").getStringValue()).isEqualTo(process.containerId());
            }
            assertThat(rp.getScopeProfilesList()).hasSize(1);
            var scope = rp.getScopeProfiles(0);
            assertThat(scope.getScope().getName()).isEqualTo("moonwalk");
            assertThat(scope.getProfilesList()).hasSize(1);
            var p = scope.getProfiles(0);
            var strings = received.getDictionary().getStringTableList();
            assertThat(strings.get(p.getSampleType().getTypeStrindex())).isEqualTo("samples");
            assertThat(strings.get(p.getSampleType().getUnitStrindex())).isEqualTo("count");
            assertThat(strings.get(p.getPeriodType().getTypeStrindex())).isEqualTo("cpu");
            assertThat(strings.get(p.getPeriodType().getUnitStrindex())).isEqualTo("nanoseconds");
            assertThat(p.getPeriod()).isEqualTo(input.periodNanos());
            assertThat(p.getTimeUnixNano()).isEqualTo(input.startEpochNanos());
            assertThat(p.getDurationNano()).isEqualTo(input.durationNanos());
        }
    }
}
