package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.frame.Frame;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.Sample;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code moonwalk agent} with an OTLP receiver and a store while {@code luajit -jv testdata/lua/trace_aborts.lua}
 * aborts traces (NYI fast function, NYI bytecode, inner loops left, unroll limit) and then spins: the windows'
 * {@code trace_aborts} profiles, summed, hold per site ({@code chunk:line} of the Lua frame) the number of root-trace
 * aborts jit.v printed, with the reason as an attribute; the store's index keeps each window's busiest sites with
 * the same counts; the web view's page carries them.
 */
class LuajitAbortSitesIT {
    private static final Pattern ROOT_ABORT = Pattern.compile("^\\[TRACE --- ([^(]\\S*) -- (.*)]$");

    @Test
    void abortSitesReachOtlpAsAProfileAndTheStoreWithJitVsCounts() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        Path dir = Moonwalk.WORK.resolve("store-aborts-" + ProcessHandle.current().pid());
        AgentIT.delete(dir);
        Path jv = Files.createTempFile("moonwalk-jv", ".txt");
        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            try (RunningAgent agent = RunningAgent.start(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT",
                    receiver.grpcEndpoint()), "--exe", "luajit", "--hz", "199", "--interval", "1s", "--store", "on", "--store-dir",
                    dir.toString(), "--store-max-size", "64M", "--store-max-age", "1h")) {
                // 300 rounds of aborts, then 4 s of a compilable loop that keeps the VM on a CPU (found, read)
                Process lj = new ProcessBuilder("luajit", "-jv",
                        Moonwalk.ROOT.resolve("testdata/lua/trace_aborts.lua").toString(), "300", "4")
                        .redirectError(jv.toFile()).start();
                try {
                    BufferedReader out = new BufferedReader(new InputStreamReader(lj.getInputStream(),
                            StandardCharsets.UTF_8));
                    for (String l; (l = out.readLine()) != null && !l.equals("READY"); ) {
                        // THREAD, COUNT
                    }
                    Map<String, Long> truth = new TreeMap<>();
                    for (String l : Files.readAllLines(jv)) {
                        Matcher m = ROOT_ABORT.matcher(l);
                        if (m.matches()) {
                            truth.merge(base(m.group(1)), 1L, Long::sum);
                        }
                    }
                    Map<String, String> reasons = new HashMap<>();
                    int[] profiles = new int[1];
                    // the window holding the VM's first read is exported within seconds (a busy host: up to 60 s)
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    Map<String, Long> otlp = otlpSites(receiver, lj.pid(), reasons, profiles);
                    while (!otlp.equals(truth) && System.nanoTime() < deadline) {
                        Thread.sleep(1000);
                        otlp = otlpSites(receiver, lj.pid(), reasons, profiles);
                    }
                    System.out.printf("trace_aborts profiles for pid %d: %d; sites: moonwalk %d (%d aborts), jit.v %d"
                            + " (%d aborts)%n", lj.pid(), profiles[0], otlp.size(),
                            otlp.values().stream().mapToLong(Long::longValue).sum(), truth.size(),
                            truth.values().stream().mapToLong(Long::longValue).sum());
                    Map<String, Long> seen = otlp;
                    truth.forEach((site, n) -> System.out.printf("  %-45s jit.v %3d  otlp %3s  %s%n", site, n,
                            seen.get(site), reasons.get(site)));
                    assertThat(truth.size()).as("the workload's abort sites (jit.v)").isGreaterThan(20);
                    assertThat(otlp).as("aborts per site in the trace_aborts profiles vs jit.v").isEqualTo(truth);

                    // the store's index: each window's busiest sites, with jit.v's counts
                    Map<String, Long> stored = new HashMap<>();
                    for (String line : Files.readAllLines(dir.resolve("index-v1.tsv"))) {
                        String[] f = line.split("\t", -1);
                        if (f.length == 8 && !f[7].isEmpty()) {
                            for (String a : f[7].split(",")) {
                                String[] x = a.split(":", -1);
                                if (URLDecoder.decode(x[0], StandardCharsets.UTF_8).startsWith(lj.pid() + "/")) {
                                    String site = URLDecoder.decode(x[3], StandardCharsets.UTF_8);
                                    Matcher m = Pattern.compile(".* \\((\\S+:\\d+)\\)$").matcher(site);
                                    assertThat(m.matches()).as(site).isTrue();
                                    stored.merge(base(m.group(1)), Long.parseLong(x[1]), Long::sum);
                                }
                            }
                        }
                    }
                    System.out.printf("store index: %d sites of pid %d: %s%n", stored.size(), lj.pid(), stored);
                    assertThat(stored).as("the windows' busiest sites").isNotEmpty().hasSizeLessThanOrEqualTo(
                            truth.size());
                    stored.forEach((site, n) -> assertThat(n).as("stored aborts at %s", site)
                            .isEqualTo(truth.get(site)));
                    long max = truth.values().stream().mapToLong(Long::longValue).max().orElseThrow();
                    assertThat(stored.values()).as("the busiest site is kept").contains(max);

                    String page = agent.get("/flamegraph");
                    assertThat(page).as("the web view carries the sites").contains("\"aborts\":[{\"vm\":\"" + lj.pid()
                            + "/vm");
                } finally {
                    lj.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        } finally {
            Files.deleteIfExists(jv);
            AgentIT.delete(dir);
        }
    }

    /** {@code trace_aborts.lua:12} of a {@code chunk:line}: jit.v may shorten a long chunk name. */
    private static String base(String site) {
        return site.substring(site.lastIndexOf('/') + 1);
    }

    /** Aborts per {@code chunk:line} in every trace_aborts profile of {@code pid} received so far. */
    private static Map<String, Long> otlpSites(ProfilesReceiver receiver, long pid, Map<String, String> reasons,
            int[] profiles) {
        Map<String, Long> otlp = new TreeMap<>();
        profiles[0] = 0;
        for (ProfilesReceiver.Received r : receiver.received) {
            ExportProfilesServiceRequest req = r.request();
            ProfilesDictionary d = req.getDictionary();
            for (var rp : req.getResourceProfilesList()) {
                if (OtlpStacks.resource(rp).get("process.pid").getIntValue() != pid) {
                    continue;
                }
                for (var sp : rp.getScopeProfilesList()) {
                    for (var p : sp.getProfilesList()) {
                        if (!d.getStringTable(p.getSampleType().getTypeStrindex()).equals("trace_aborts")) {
                            continue;
                        }
                        profiles[0]++;
                        assertThat(d.getStringTable(p.getSampleType().getUnitStrindex())).isEqualTo("count");
                        for (Sample s : p.getSamplesList()) {
                            List<Integer> locs = d.getStackTable(s.getStackIndex()).getLocationIndicesList();
                            assertThat(locs).as("one frame: the site").hasSize(1);
                            Frame f = OtlpStacks.frame(d, d.getLocationTable(locs.get(0)));
                            String site = base(f.file() + ":" + f.line());
                            otlp.merge(site, s.getValues(0), Long::sum);
                            Map<String, String> attrs = OtlpStacks.sampleAttributes(d, s);
                            assertThat(attrs).containsKeys("luajit.vm", "luajit.abort_reason");
                            reasons.put(site, attrs.get("luajit.abort_reason"));
                            assertThat(f.displayName()).matches("(function <\\S+:\\d+>|main chunk) \\(\\S+:\\d+\\)");
                        }
                    }
                }
            }
        }
        return otlp;
    }
}
