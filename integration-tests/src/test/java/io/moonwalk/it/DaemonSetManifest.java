package io.moonwalk.it;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/**
 * The agent container of deploy/kubernetes/daemonset.yaml as the container tests need it: hostPID, the
 * securityContext, the volume mounts (hostPath or emptyDir), args and plain env values. Read from the file
 * itself so the tests run exactly what the manifest says.
 */
record DaemonSetManifest(boolean hostPid, boolean privileged, boolean allowPrivilegeEscalation,
                         boolean readOnlyRootFilesystem, List<String> capDrop, List<String> capAdd,
                         String seccompProfile, String appArmorProfile, List<Mount> mounts, List<String> args,
                         Map<String, String> env, String image) {

    /** A volume mount: {@code hostPath} null for an emptyDir. */
    record Mount(String name, String mountPath, String hostPath, boolean readOnly) {
    }

    static Path directory() {
        return Path.of(System.getProperty("moonwalk.root", "..")).resolve("deploy/kubernetes");
    }

    static DaemonSetManifest load() throws IOException {
        return parse(directory().resolve("daemonset.yaml"));
    }

    @SuppressWarnings("unchecked")
    static DaemonSetManifest parse(Path file) throws IOException {
        Map<String, Object> doc;
        try (Reader r = Files.newBufferedReader(file)) {
            doc = new Yaml().load(r);
        }
        if (!"DaemonSet".equals(doc.get("kind"))) {
            throw new IllegalStateException(file + " holds a " + doc.get("kind") + ", not a DaemonSet");
        }
        Map<String, Object> pod = map(map(map(doc, "spec"), "template"), "spec");
        List<Object> containers = (List<Object>) pod.get("containers");
        if (containers == null || containers.size() != 1) {
            throw new IllegalStateException(file + ": expected exactly one container in the pod");
        }
        Map<String, Object> c = (Map<String, Object>) containers.getFirst();
        Map<String, Object> sc = map(c, "securityContext");
        Map<String, Object> caps = map(sc, "capabilities");
        Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
        for (Object v : (List<Object>) pod.getOrDefault("volumes", List.of())) {
            Map<String, Object> vm = (Map<String, Object>) v;
            volumes.put((String) vm.get("name"), vm);
        }
        List<Mount> mounts = new ArrayList<>();
        for (Object m : (List<Object>) c.getOrDefault("volumeMounts", List.of())) {
            Map<String, Object> mm = (Map<String, Object>) m;
            Map<String, Object> vol = volumes.get((String) mm.get("name"));
            if (vol == null) {
                throw new IllegalStateException(file + ": mount of undefined volume " + mm.get("name"));
            }
            String hostPath = vol.containsKey("hostPath") ? (String) map(vol, "hostPath").get("path") : null;
            if (hostPath == null && !vol.containsKey("emptyDir")) {
                throw new IllegalStateException(file + ": volume " + mm.get("name") + " is neither hostPath nor emptyDir");
            }
            mounts.add(new Mount((String) mm.get("name"), (String) mm.get("mountPath"), hostPath,
                    Boolean.TRUE.equals(mm.get("readOnly"))));
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (Object e : (List<Object>) c.getOrDefault("env", List.of())) {
            Map<String, Object> em = (Map<String, Object>) e;
            if (em.containsKey("value")) {
                env.put((String) em.get("name"), String.valueOf(em.get("value")));
            }
        }
        return new DaemonSetManifest(Boolean.TRUE.equals(pod.get("hostPID")), Boolean.TRUE.equals(sc.get("privileged")),
                !Boolean.FALSE.equals(sc.get("allowPrivilegeEscalation")),
                Boolean.TRUE.equals(sc.get("readOnlyRootFilesystem")),
                List.copyOf((List<String>) caps.getOrDefault("drop", List.of())),
                List.copyOf((List<String>) caps.getOrDefault("add", List.of())),
                (String) map(sc, "seccompProfile").get("type"), (String) map(sc, "appArmorProfile").get("type"),
                mounts, List.copyOf((List<String>) c.getOrDefault("args", List.of())), env, (String) c.get("image"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Map)) {
            throw new IllegalStateException("daemonset.yaml: " + key + " is missing or not a mapping");
        }
        return (Map<String, Object>) v;
    }

    /** The args with {@code flag}'s value replaced (or the flag appended when absent). */
    List<String> argsWith(String flag, String value) {
        List<String> out = new ArrayList<>(args);
        int i = out.indexOf(flag);
        if (i >= 0) {
            out.set(i + 1, value);
        } else {
            out.add(flag);
            out.add(value);
        }
        return out;
    }
}
