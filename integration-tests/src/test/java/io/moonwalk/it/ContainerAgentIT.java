package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The agent image run as the DaemonSet runs it (security context, mounts and args read from
 * deploy/kubernetes/daemonset.yaml) next to an OpenResty-like target container (Debian's nginx + Lua
 * module) under wrk load from the host on a loopback port, exporting OTLP to a real receiver on loopback.
 */
class ContainerAgentIT {
    /**
     * Whole-host profiling names every process of the node before its first window closes; on this 2-core
     * machine shared with other builds (load average 40 seen) that took up to half a minute.
     */
    static final Duration FIRST_WINDOW_WITHIN = Duration.ofSeconds(180);
    private static final Pattern HANDLER = Pattern.compile("content_by_lua\\(nginx\\.conf:\\d+\\)");
    private static final Pattern OUTER = Pattern.compile("\\bouter \\(/etc/nginx/lua/burn\\.lua:\\d+\\)");
    private static final Pattern INNER = Pattern.compile("\\binner \\(/etc/nginx/lua/burn\\.lua:\\d+\\)");
    private static DockerClient docker;
    private static DaemonSetManifest manifest;
    private static GenericContainer<?> target;
    private static Process wrk;

    @BeforeAll
    static void startTargetUnderLoad() throws IOException {
        docker = ContainerEngine.client();
        manifest = DaemonSetManifest.load();
        target = new GenericContainer<>(DockerImageName.parse(ContainerEngine.TARGET_IMAGE))
                .withExposedPorts(8080)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(
                        new PortBinding(Ports.Binding.bindIp("127.0.0.1"), ExposedPort.tcp(8080))))
                .waitingFor(Wait.forHttp("/burn").forStatusCode(200).withStartupTimeout(Duration.ofSeconds(30)));
        target.start();
        String url = "http://127.0.0.1:" + target.getMappedPort(8080) + "/burn";
        // bounded: wrk stops by itself after 10 minutes even if the test JVM dies without closing it
        wrk = new ProcessBuilder("wrk", "-t1", "-c2", "-d600s", url).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    @AfterAll
    static void stop() {
        if (wrk != null) {
            wrk.destroy();
        }
        if (target != null) {
            target.stop();
        }
    }

    @Test
    void profilesTheTargetWithTheDaemonSetSecurityContext() throws Exception {
        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            String node = "node-" + ProcessHandle.current().pid();
            long t0 = System.nanoTime();
            String agent = ContainerEngine.startAgent(docker, manifest, ContainerEngine.Variation.none(),
                    agentArgs(), Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpcEndpoint(), "K8S_NODE_NAME", node));
            try {
                awaitRequests(receiver, agent, 1, FIRST_WINDOW_WITHIN);
                double firstWindowSeconds = (receiver.received.getFirst().arrivalNanos() - t0) / 1e9;
                System.out.printf("container agent: first exported window %.1f s after the container started%n",
                        firstWindowSeconds);
                awaitRequests(receiver, agent, 4, FIRST_WINDOW_WITHIN);
                List<ExportProfilesServiceRequest> requests = requests(receiver);
                String targetId = target.getContainerId();

                Set<Long> workers = pidsWhere(requests, r -> targetId.equals(str(r, "container.id")));
                assertThat(workers).as("processes exported with container.id = podman's id of the target "
                        + targetId).isNotEmpty();
                for (ResourceProfiles rp : allResources(requests)) {
                    assertThat(str(rp, "host.name")).as("host.name is the downward API's node name").isEqualTo(node);
                }
                Map<String, Long> stacks = new java.util.HashMap<>();
                for (long pid : workers) {
                    OtlpStacks.stacksOf(requests, pid).forEach((k, n) -> stacks.merge(k, n, Long::sum));
                }
                long total = stacks.values().stream().mapToLong(Long::longValue).sum();
                long luaOrdered = count(stacks, ContainerAgentIT::handlerCallsOuterCallsInner);
                // names that exist only in the target's files: nginx's own symbols and the Lua module's
                long named = count(stacks, st -> st.contains("ngx_http_core_content_phase")
                        && st.contains("ngx_http_lua_run_thread"));
                long luajitNamed = count(stacks, st -> Pattern.compile("(^|;)(lj_|lua_|luaL_)\\w+(;|$)").matcher(st).find());
                System.out.printf("container agent: %d worker samples, %d with content_by_lua > outer > inner, %d with "
                        + "nginx and ngx_http_lua_module frames named, %d with a libluajit function named%n", total,
                        luaOrdered, named, luajitNamed);
                assertThat(total).as("worker samples").isGreaterThan(20);
                // the worker's first windows come before it is synced ("[unwind error: process not synced]", more of
                // them on a loaded machine): a share of the samples, not all, must hold the whole chain
                assertThat(luaOrdered).as("worker samples in handler > burn.outer > burn.inner:%n%s", top(stacks))
                        .isGreaterThanOrEqualTo(Math.max(5, total / 10));
                assertThat(named).as("native frames named from the target container's nginx and Lua module:%n%s",
                        top(stacks)).isGreaterThanOrEqualTo(luaOrdered);
                // the names cannot have come from the agent's own filesystem: it holds no nginx at all
                assertThat(execExitCode(agent, "/usr/lib/nginx/modules/ngx_http_lua_module.so")).isNotZero();

                docker.stopContainerCmd(agent).withTimeout(20).exec();
                assertThat(ContainerEngine.awaitExit(docker, agent, Duration.ofSeconds(30))).as("exit code at SIGTERM:%n%s",
                        ContainerEngine.logs(docker, agent)).isZero();
            } finally {
                ContainerEngine.remove(docker, agent);
            }
        }
    }

    @Test
    void containerFilterKeepsOnlyThatContainersProcesses() throws Exception {
        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            List<String> args = new ArrayList<>(agentArgs());
            args.add("--container");
            args.add(target.getContainerId().substring(0, 12));
            String agent = ContainerEngine.startAgent(docker, manifest, ContainerEngine.Variation.none(), args,
                    Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpcEndpoint()));
            try {
                awaitRequests(receiver, agent, 3, FIRST_WINDOW_WITHIN);
                List<ResourceProfiles> all = allResources(requests(receiver));
                assertThat(all).isNotEmpty();
                for (ResourceProfiles rp : all) {
                    assertThat(str(rp, "container.id")).as("pid %d", OtlpStacks.resource(rp).get("process.pid").getIntValue())
                            .isEqualTo(target.getContainerId());
                }
            } finally {
                ContainerEngine.remove(docker, agent);
            }
        }
    }

    @Test
    void sigkillThenStartResumesExportingAndLeavesNoBpfObjectOfThatContainer() throws Exception {
        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            String agent = ContainerEngine.startAgent(docker, manifest, ContainerEngine.Variation.none(), agentArgs(),
                    Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpcEndpoint()));
            try {
                awaitRequests(receiver, agent, 1, FIRST_WINDOW_WITHIN);
                long pid = ContainerEngine.hostPid(docker, agent);
                Set<Long> progs = BpfObjects.idsHeldBy("prog", pid);
                Set<Long> maps = BpfObjects.idsHeldBy("map", pid);
                assertThat(progs).as("BPF programs held by the agent (host pid %d)", pid).isNotEmpty();
                assertThat(maps).as("BPF maps held by the agent").isNotEmpty();

                docker.killContainerCmd(agent).withSignal("KILL").exec();
                assertThat(ContainerEngine.awaitExit(docker, agent, Duration.ofSeconds(10))).isEqualTo(137);
                // the kernel frees them once the last fd closes (perf links hold references a moment longer)
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                Set<Long> leftProgs;
                Set<Long> leftMaps;
                do {
                    Thread.sleep(200);
                    leftProgs = BpfObjects.existing("prog", progs);
                    leftMaps = BpfObjects.existing("map", maps);
                } while ((!leftProgs.isEmpty() || !leftMaps.isEmpty()) && System.nanoTime() < deadline);
                assertThat(leftProgs).as("programs of the killed agent still loaded").isEmpty();
                assertThat(leftMaps).as("maps of the killed agent still there").isEmpty();

                int before = receiver.received.size();
                docker.startContainerCmd(agent).exec();
                awaitRequests(receiver, agent, before + 2, FIRST_WINDOW_WITHIN);
                assertThat(receiver.received.size()).isGreaterThanOrEqualTo(before + 2);
            } finally {
                ContainerEngine.remove(docker, agent);
            }
        }
    }

    @Test
    void kustomizationTagsTheImageWithTheProjectVersion() throws IOException {
        String k = Files.readString(DaemonSetManifest.directory().resolve("kustomization.yaml"));
        assertThat(k).containsPattern("newTag: " + Pattern.quote(System.getProperty("moonwalk.version")) + "\\b")
                .doesNotContain("latest");
        assertThat(manifest.image()).isEqualTo("moonwalk");
    }

    static List<String> agentArgs() throws IOException {
        return agentArgs(manifest);
    }

    static List<String> agentArgs(DaemonSetManifest manifest) throws IOException {
        List<String> args = new ArrayList<>(manifest.argsWith("--listen", "127.0.0.1:" + ProfilesReceiver.freePort()));
        args.addAll(List.of("--interval", "2s"));
        return args;
    }

    /** handler, then burn.outer, then burn.inner, root first: e.g. {@code main chunk (content_by_lua(nginx.conf:28):3);burn.outer (/etc/nginx/lua/burn.lua:13);M.inner (/etc/nginx/lua/burn.lua:7)}. */
    private static boolean handlerCallsOuterCallsInner(String folded) {
        String[] f = folded.split(";");
        int h = -1;
        int o = -1;
        for (int i = 0; i < f.length; i++) {
            if (h < 0 && HANDLER.matcher(f[i]).find()) {
                h = i;
            } else if (h >= 0 && o < 0 && OUTER.matcher(f[i]).find()) {
                o = i;
            } else if (o >= 0 && INNER.matcher(f[i]).find()) {
                return true;
            }
        }
        return false;
    }

    private int execExitCode(String container, String path) throws InterruptedException {
        String exec = docker.execCreateCmd(container).withCmd("test", "-e", path).withAttachStdout(true)
                .withAttachStderr(true).exec().getId();
        docker.execStartCmd(exec).start().awaitCompletion(10, TimeUnit.SECONDS);
        return docker.inspectExecCmd(exec).exec().getExitCodeLong().intValue();
    }

    static void awaitRequests(ProfilesReceiver receiver, String agent, int n, Duration timeout) throws InterruptedException {
        awaitRequests(docker, receiver, agent, n, timeout);
    }

    static void awaitRequests(DockerClient docker, ProfilesReceiver receiver, String agent, int n, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (receiver.received.size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("received " + receiver.received.size() + " of " + n + " OTLP requests within "
                        + timeout.toSeconds() + " s; agent log:\n" + ContainerEngine.logs(docker, agent));
            }
            Integer exit = ContainerEngine.awaitExit(docker, agent, Duration.ofMillis(200));
            if (exit != null) {
                throw new AssertionError("the agent container exited with " + exit + ":\n" + ContainerEngine.logs(docker, agent));
            }
        }
    }

    static List<ExportProfilesServiceRequest> requests(ProfilesReceiver r) {
        return r.received.stream().map(ProfilesReceiver.Received::request).toList();
    }

    static List<ResourceProfiles> allResources(List<ExportProfilesServiceRequest> requests) {
        return requests.stream().flatMap(q -> q.getResourceProfilesList().stream()).toList();
    }

    static Set<Long> pidsWhere(List<ExportProfilesServiceRequest> requests, Predicate<ResourceProfiles> p) {
        Set<Long> out = new HashSet<>();
        for (ResourceProfiles rp : allResources(requests)) {
            if (p.test(rp)) {
                out.add(OtlpStacks.resource(rp).get("process.pid").getIntValue());
            }
        }
        return out;
    }

    static String str(ResourceProfiles rp, String key) {
        AnyValue v = OtlpStacks.resource(rp).get(key);
        return v == null ? null : v.getStringValue();
    }

    private static long count(Map<String, Long> stacks, Predicate<String> p) {
        return stacks.entrySet().stream().filter(e -> p.test(e.getKey())).mapToLong(Map.Entry::getValue).sum();
    }

    private static String top(Map<String, Long> stacks) {
        StringBuilder sb = new StringBuilder();
        stacks.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
                .forEach(e -> sb.append(e.getValue()).append(' ').append(e.getKey()).append('\n'));
        return sb.toString();
    }
}
