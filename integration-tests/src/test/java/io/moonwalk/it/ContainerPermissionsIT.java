package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.DockerClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the agent container does when its environment refuses something: each capability of the DaemonSet
 * removed in turn, the container engine's default seccomp profile, a missing BTF or tracefs mount, an
 * unreachable collector and a bad setting. Each must give one clear line (no stack trace) and the documented
 * exit code (3 permission, 2 usage) within seconds, or the documented readiness state.
 */
class ContainerPermissionsIT {
    /** Start-up of the JVM in the container plus the checks: "within seconds". */
    private static final Duration EXIT_WITHIN = Duration.ofSeconds(20);
    private static DockerClient docker;
    private static DaemonSetManifest manifest;

    @BeforeAll
    static void engine() throws IOException {
        docker = ContainerEngine.client();
        manifest = DaemonSetManifest.load();
    }

    @Test
    void eachCapabilityOfTheManifestIsNeededAndNamedWhenMissing() throws Exception {
        assertThat(manifest.capDrop()).containsExactly("ALL");
        assertThat(manifest.privileged()).isFalse();
        List<String> failures = new ArrayList<>();
        for (String cap : manifest.capAdd()) {
            List<String> without = new ArrayList<>(manifest.capAdd());
            without.remove(cap);
            Outcome o = run(ContainerEngine.Variation.none().withCaps(without), otlpArgs(), Map.of());
            System.out.printf("capability matrix: without %-18s exit %s after %.1f s: %s%n", cap, o.exit, o.seconds,
                    o.lastLine());
            if (o.exit == null || o.exit != 5 || !o.oneLine() || !o.log.contains("CAP_" + cap)) {
                failures.add("without " + cap + ": exit " + o.exit + ", log:\n" + o.log);
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void defaultSeccompProfileRefusingBpfIsBlamedOnSeccomp() throws Exception {
        Outcome o = run(ContainerEngine.Variation.none().withSeccomp("RuntimeDefault"), otlpArgs(), Map.of());
        System.out.printf("default seccomp, manifest capabilities: exit %s: %s%n", o.exit, o.lastLine());
        assertThat(o.exit).as(o.log).isEqualTo(5);
        assertThat(o.oneLine()).as(o.log).isTrue();
        assertThat(o.lastLine()).contains("seccomp").contains("bpf()").contains("CAP_SYS_ADMIN");
    }

    @Test
    void sysAdminSetProfilesUnderTheDefaultSeccompProfile() throws Exception {
        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            String agent = ContainerEngine.startAgent(docker, manifest, ContainerEngine.Variation.none()
                            .withSeccomp("RuntimeDefault").withCaps(List.of("SYS_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH", "SYSLOG")),
                    ContainerAgentIT.agentArgs(manifest), Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpcEndpoint()));
            try {
                ContainerAgentIT.awaitRequests(docker, receiver, agent, 2, ContainerAgentIT.FIRST_WINDOW_WITHIN);
            } finally {
                ContainerEngine.remove(docker, agent);
            }
        }
    }

    @Test
    void missingBtfIsOneLineAndExit3() throws Exception {
        Outcome o = run(ContainerEngine.Variation.none().withTmpfs("/sys/kernel/btf"), otlpArgs(), Map.of());
        System.out.printf("no /sys/kernel/btf: exit %s: %s%n", o.exit, o.lastLine());
        assertThat(o.exit).as(o.log).isEqualTo(5);
        assertThat(o.oneLine()).as(o.log).isTrue();
        assertThat(o.lastLine()).contains("no kernel BTF at /sys/kernel/btf/vmlinux");
    }

    @Test
    void missingTracefsMountIsOneLineAndExit3() throws Exception {
        Outcome o = run(ContainerEngine.Variation.none().withoutMount("tracing").withTmpfs("/sys/kernel/tracing"),
                otlpArgs(), Map.of());
        System.out.printf("no tracefs mount: exit %s: %s%n", o.exit, o.lastLine());
        assertThat(o.exit).as(o.log).isEqualTo(5);
        assertThat(o.oneLine()).as(o.log).isTrue();
        assertThat(o.lastLine()).contains("tracefs is not mounted at /sys/kernel/tracing");
    }

    @Test
    void badSettingIsOneLineAndExit2() throws Exception {
        Outcome o = run(ContainerEngine.Variation.none(), otlpArgs(), Map.of("MOONWALK_HZ", "lots"));
        System.out.printf("MOONWALK_HZ=lots: exit %s: %s%n", o.exit, o.lastLine());
        assertThat(o.exit).as(o.log).isEqualTo(2);
        assertThat(o.oneLine()).as(o.log).isTrue();
        assertThat(o.lastLine()).contains("lots");
    }

    @Test
    void anOutOfMemoryErrorEndsTheJvmWithExit3() throws Exception {
        // The image's launcher starts the JVM with /opt/moonwalk/jvm.options (deploy/jvm.options:
        // -XX:+ExitOnOutOfMemoryError); the DaemonSet's MOONWALK_JAVA_OPTS (the heap) comes after it. The test
        // fault fills the heap while the agent syncs the running processes before attaching.
        String opts = manifest.env().get("MOONWALK_JAVA_OPTS");
        assertThat(opts).as("the DaemonSet sets the heap in MOONWALK_JAVA_OPTS").contains("-Xmx");
        assertThat(manifest.env()).as("JAVA_TOOL_OPTIONS would lose to the options file").doesNotContainKey(
                "JAVA_TOOL_OPTIONS");
        Outcome o = run(ContainerEngine.Variation.none(), otlpArgs(), Map.of("MOONWALK_JAVA_OPTS",
                opts + " -Dmoonwalk.test.inject-fault=presync:oom:*"));
        System.out.printf("OutOfMemoryError in the container: exit %s after %.1f s: %s%n", o.exit, o.seconds,
                o.lines().stream().filter(l -> l.contains("OutOfMemoryError")).findFirst().orElse("(none)"));
        assertThat(o.exit).as(o.log).isEqualTo(3);
        assertThat(o.log).contains("Terminating due to java.lang.OutOfMemoryError");
    }

    @Test
    void unreachableCollectorKeepsProfilingButIsNotReady() throws Exception {
        int closed = ProfilesReceiver.freePort();
        int listen = ProfilesReceiver.freePort();
        List<String> args = new ArrayList<>(manifest.argsWith("--listen", "127.0.0.1:" + listen));
        args.addAll(List.of("--interval", "1s"));
        String agent = ContainerEngine.startAgent(docker, manifest, ContainerEngine.Variation.none(), args,
                Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + closed));
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpResponse<String> ready = null;
            long deadline = System.nanoTime() + ContainerAgentIT.FIRST_WINDOW_WITHIN.toNanos();
            while (System.nanoTime() < deadline) {
                assertThat(ContainerEngine.awaitExit(docker, agent, Duration.ofMillis(500))).as("the agent must keep "
                        + "running while the collector is away:%n%s", ContainerEngine.logs(docker, agent)).isNull();
                try {
                    ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + listen + "/readyz"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    if (ready.statusCode() == 503 && ready.body().contains("otlp: last export to")) {
                        break;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
            }
            assertThat(ready).as("no /readyz answer:%n%s", ContainerEngine.logs(docker, agent)).isNotNull();
            System.out.printf("unreachable collector: /readyz %d: %s%n", ready.statusCode(),
                    ready.body().replace('\n', '|'));
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("sampler: attached")
                    .contains("otlp: last export to http://127.0.0.1:" + closed + " failed: ");
        } finally {
            ContainerEngine.remove(docker, agent);
        }
    }

    private static List<String> otlpArgs() throws IOException {
        return ContainerAgentIT.agentArgs(manifest);
    }

    private record Outcome(Integer exit, double seconds, String log) {
        List<String> lines() {
            return log.lines().filter(l -> !l.isBlank() && !l.startsWith("Picked up JAVA_TOOL_OPTIONS")).toList();
        }

        boolean oneLine() {
            return lines().size() == 1 && !log.contains("\tat ") && !log.contains("Exception");
        }

        String lastLine() {
            List<String> l = lines();
            return l.isEmpty() ? "" : l.getLast();
        }
    }

    private static Outcome run(ContainerEngine.Variation v, List<String> args, Map<String, String> env) {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.putIfAbsent("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");
        long t0 = System.nanoTime();
        String id = ContainerEngine.startAgent(docker, manifest, v, args, all);
        try {
            Integer exit = ContainerEngine.awaitExit(docker, id, EXIT_WITHIN);
            return new Outcome(exit, (System.nanoTime() - t0) / 1e9, ContainerEngine.logs(docker, id));
        } finally {
            ContainerEngine.remove(docker, id);
        }
    }
}
