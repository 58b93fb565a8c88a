package io.moonwalk.it;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;

/**
 * The container engine of the container tests: podman's Docker API (scripts/containers service-start, which
 * scripts/test runs first), reached through Testcontainers' client. Never skips: without an engine the tests
 * fail and say why. Runs the agent image with the DaemonSet's security context.
 */
final class ContainerEngine {
    /** The image scripts/image built: MOONWALK_AGENT_IMAGE names it when set (as for scripts/image). */
    static final String AGENT_IMAGE = System.getenv().getOrDefault("MOONWALK_AGENT_IMAGE",
            "localhost/moonwalk:" + System.getProperty("moonwalk.version", "0.1.0-SNAPSHOT"));
    static final String TARGET_IMAGE = "localhost/moonwalk-nginx-lua:bookworm";

    private ContainerEngine() {
    }

    static DockerClient client() {
        String host = System.getenv("DOCKER_HOST");
        if (host == null || host.isBlank()) {
            throw new AssertionError("DOCKER_HOST is not set: the container tests need podman's Docker API; run them "
                    + "through scripts/test, or: scripts/containers service-start && eval \"$(scripts/containers env)\"");
        }
        if (!"true".equals(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) {
            throw new AssertionError("TESTCONTAINERS_RYUK_DISABLED=true is not set: the Ryuk reaper image cannot be "
                    + "pulled here (eval \"$(scripts/containers env)\")");
        }
        DockerClient c;
        try {
            c = DockerClientFactory.instance().client();
        } catch (RuntimeException e) {
            throw new AssertionError("no container engine answers on " + host + " (" + e.getMessage()
                    + "): start it with scripts/containers service-start", e);
        }
        for (String image : List.of(AGENT_IMAGE, TARGET_IMAGE)) {
            try {
                c.inspectImageCmd(image).exec();
            } catch (RuntimeException e) {
                throw new AssertionError("image " + image + " is missing: build it with scripts/image all", e);
            }
        }
        return c;
    }

    /** How a run departs from the manifest (null fields: as the manifest says). */
    record Variation(List<String> capAdd, String seccomp, Map<String, String> extraTmpfs, List<String> dropMounts,
                     Map<String, String> readOnlyBinds) {
        static Variation none() {
            return new Variation(null, null, Map.of(), List.of(), Map.of());
        }

        Variation withCaps(List<String> caps) {
            return new Variation(caps, seccomp, extraTmpfs, dropMounts, readOnlyBinds);
        }

        Variation withSeccomp(String profile) {
            return new Variation(capAdd, profile, extraTmpfs, dropMounts, readOnlyBinds);
        }

        Variation withTmpfs(String path) {
            Map<String, String> m = new LinkedHashMap<>(extraTmpfs);
            m.put(path, "rw,size=1m,notmpcopyup"); // an empty directory over what the image or sysfs has there
            return new Variation(capAdd, seccomp, m, dropMounts, readOnlyBinds);
        }

        Variation withoutMount(String name) {
            List<String> l = new ArrayList<>(dropMounts);
            l.add(name);
            return new Variation(capAdd, seccomp, extraTmpfs, l, readOnlyBinds);
        }
    }

    /**
     * Creates and starts the agent container as the manifest's pod would run it: hostPID, not privileged, the
     * capability drop/add lists, seccomp and AppArmor profiles, no-new-privileges, read-only root, hostPath
     * mounts as binds and emptyDirs as tmpfs. One departure: host networking, so the agent reaches the test's
     * receiver on loopback (networking has no bearing on permissions).
     */
    static String startAgent(DockerClient c, DaemonSetManifest m, Variation v, List<String> args,
                             Map<String, String> env) {
        List<String> caps = v.capAdd() != null ? v.capAdd() : m.capAdd();
        List<String> securityOpts = new ArrayList<>();
        String seccomp = v.seccomp() != null ? v.seccomp() : m.seccompProfile();
        if ("Unconfined".equals(seccomp)) {
            securityOpts.add("seccomp=unconfined");
        } else if (!"RuntimeDefault".equals(seccomp)) {
            throw new IllegalArgumentException("seccomp profile " + seccomp + " is not one the tests can run");
        }
        if ("Unconfined".equals(m.appArmorProfile())) {
            securityOpts.add("apparmor=unconfined");
        }
        if (!m.allowPrivilegeEscalation()) {
            securityOpts.add("no-new-privileges");
        }
        List<Bind> binds = new ArrayList<>();
        Map<String, String> tmpfs = new LinkedHashMap<>();
        for (DaemonSetManifest.Mount mount : m.mounts()) {
            if (v.dropMounts().contains(mount.name())) {
                continue;
            }
            if (mount.hostPath() != null) {
                binds.add(new Bind(mount.hostPath(), new Volume(mount.mountPath()),
                        mount.readOnly() ? AccessMode.ro : AccessMode.rw));
            } else {
                tmpfs.put(mount.mountPath(), "rw,size=64m");
            }
        }
        tmpfs.putAll(v.extraTmpfs());
        HostConfig hc = HostConfig.newHostConfig()
                .withPidMode(m.hostPid() ? "host" : null)
                .withNetworkMode("host")
                .withPrivileged(m.privileged())
                .withCapDrop(m.capDrop().stream().map(Capability::valueOf).toArray(Capability[]::new))
                .withCapAdd(caps.stream().map(Capability::valueOf).toArray(Capability[]::new))
                .withSecurityOpts(securityOpts)
                .withReadonlyRootfs(m.readOnlyRootFilesystem())
                .withBinds(binds)
                .withTmpFs(tmpfs);
        Map<String, String> allEnv = new LinkedHashMap<>(m.env());
        allEnv.putAll(env);
        CreateContainerCmd create = c.createContainerCmd(AGENT_IMAGE).withHostConfig(hc).withCmd(args)
                .withEnv(allEnv.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList())
                .withLabels(Map.of("io.moonwalk.test", "container-it"));
        String id = create.exec().getId();
        c.startContainerCmd(id).exec();
        return id;
    }

    /** The exit code, or null when the container still runs after {@code timeout}. */
    static Integer awaitExit(DockerClient c, String id, Duration timeout) {
        try {
            return c.waitContainerCmd(id).exec(new WaitContainerResultCallback())
                    .awaitStatusCode(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            return null;
        }
    }

    static String logs(DockerClient c, String id) {
        StringBuilder sb = new StringBuilder();
        try {
            c.logContainerCmd(id).withStdOut(true).withStdErr(true).exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame f) {
                    sb.append(new String(f.getPayload(), java.nio.charset.StandardCharsets.UTF_8));
                }
            }).awaitCompletion(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return sb.toString();
    }

    static long hostPid(DockerClient c, String id) {
        return c.inspectContainerCmd(id).exec().getState().getPidLong();
    }

    static void remove(DockerClient c, String id) {
        try {
            c.removeContainerCmd(id).withForce(true).exec();
        } catch (RuntimeException e) {
            // already gone
        }
    }
}
