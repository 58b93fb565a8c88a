package io.moonwalk.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.export.otlp.OtlpProfileEncoder;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.frame.Frame;
import io.moonwalk.interpreter.InterpreterStats;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("pure")
class AbortProfileTest {
    private static final ProcessIdentity LJ = new ProcessIdentity(42, "luajit", "/usr/bin/luajit", "");

    private static List<InterpreterStats.SiteCount> sites(InterpreterStats.SiteCount... c) {
        return List.of(c);
    }

    private static InterpreterStats.SiteCount site(int pid, int line, String reason, long n) {
        return new InterpreterStats.SiteCount("trace_aborts", pid,
                Frame.interpreted("luajit", "function <app.lua:10>", "app.lua", line, 10, false),
                Map.of("luajit.vm", "vm1", "luajit.abort_reason", reason), n);
    }

    @Test
    void aWindowsAbortSitesBecomeATraceAbortsProfileThatEncodesToOtlp() {
        Profile cpu = new Profile(1_000_000_000L, 1_000_000_000L, 10_000_000L, List.of(new Profile.Entry(LJ, "luajit",
                List.of(Frame.interpreted("luajit", "main chunk", "app.lua", 1, 0, false)), Map.of(), 5)));
        assertThat(AbortProfile.of(cpu, sites())).as("no aborts, no profile").isNull();
        Profile p = AbortProfile.of(cpu, sites(site(42, 12, "NYI: bytecode", 11),
                site(43, 15, "loop unroll limit reached", 2)));
        assertThat(p.sampleType().type()).isEqualTo("trace_aborts");
        assertThat(p.entries()).hasSize(2);
        assertThat(p.entries().get(0).process()).isEqualTo(LJ);
        assertThat(p.entries().get(1).process().command()).as("not sampled in the window").isEqualTo("pid 43");
        ExportProfilesServiceRequest req = new OtlpProfileEncoder("host", Map.of(), "test").encode(p);
        ProfilesDictionary d = req.getDictionary();
        assertThat(req.getResourceProfilesCount()).isEqualTo(2);
        var prof = req.getResourceProfiles(0).getScopeProfiles(0).getProfiles(0);
        assertThat(d.getStringTable(prof.getSampleType().getTypeStrindex())).isEqualTo("trace_aborts");
        assertThat(d.getStringTable(prof.getSampleType().getUnitStrindex())).isEqualTo("count");
        assertThat(prof.getSamples(0).getValues(0)).isEqualTo(11);
        var loc = d.getLocationTable(d.getStackTable(prof.getSamples(0).getStackIndex()).getLocationIndices(0));
        assertThat(d.getStringTable(d.getFunctionTable(loc.getLines(0).getFunctionIndex()).getNameStrindex()))
                .isEqualTo("function <app.lua:10>");
        assertThat(loc.getLines(0).getLine()).isEqualTo(12);
    }
}
