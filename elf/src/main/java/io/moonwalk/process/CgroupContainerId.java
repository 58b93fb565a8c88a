package io.moonwalk.process;

/**
 * Extracts a container ID from the text of {@code /proc/PID/cgroup}. Pure: no I/O.
 *
 * <p>Recognised forms of the 64-hex-digit ID, in any cgroup v1 or v2 line:
 * {@code docker-<id>.scope} (systemd driver), {@code /docker/<id>} (cgroupfs driver),
 * {@code cri-containerd-<id>.scope}, {@code crio-<id>.scope}, {@code libpod-<id>.scope} (podman),
 * and a bare {@code <id>} component as kubelet's cgroupfs driver writes under {@code /kubepods/...}.
 * conmon's own scopes ({@code crio-conmon-}, {@code libpod-conmon-}) are the runtime's monitor, not
 * the container, and are ignored. Nested containers resolve to the innermost (last) ID on a line.
 */
public final class CgroupContainerId {
    private static final int ID_LENGTH = 64;
    private static final String[] PREFIXES = {"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-"};

    private CgroupContainerId() {
    }

    /** The container ID, or the empty string when the process is not in a recognised container. */
    public static String parse(String cgroupText) {
        if (cgroupText == null) {
            return "";
        }
        for (String line : cgroupText.split("\n", -1)) {
            // "hierarchy-id:controllers:path"; the path may itself contain ':'.
            int c1 = line.indexOf(':');
            int c2 = c1 < 0 ? -1 : line.indexOf(':', c1 + 1);
            if (c2 < 0) {
                continue;
            }
            String id = fromPath(line.substring(c2 + 1));
            if (!id.isEmpty()) {
                return id;
            }
        }
        return "";
    }

    static String fromPath(String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            String id = fromComponent(parts[i]);
            if (id != null) {
                return id;
            }
        }
        return "";
    }

    private static String fromComponent(String component) {
        String c = component;
        if (c.endsWith(".scope")) {
            c = c.substring(0, c.length() - ".scope".length());
            if (c.contains("-conmon-")) {
                return null;
            }
            boolean prefixed = false;
            for (String p : PREFIXES) {
                if (c.startsWith(p)) {
                    c = c.substring(p.length());
                    prefixed = true;
                    break;
                }
            }
            if (!prefixed) {
                return null;
            }
        } else if (c.startsWith("libpod-") && !c.startsWith("libpod-conmon-")) {
            c = c.substring("libpod-".length()); // podman with cgroupfs: /libpod_parent/libpod-<id>
        }
        return isId(c) ? c : null;
    }

    private static boolean isId(String s) {
        if (s.length() != ID_LENGTH) {
            return false;
        }
        for (int i = 0; i < ID_LENGTH; i++) {
            char ch = s.charAt(i);
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
                return false;
            }
        }
        return true;
    }
}
