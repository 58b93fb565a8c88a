package io.moonwalk.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Debian container booted with systemd as PID 1 ({@code podman run --systemd=always}), driven
 * through the podman CLI. Privileged (the unit under test drops to its own capability set) with
 * the host's tracefs mounted (the agent's process-exit tracepoint).
 */
final class SystemdContainer implements AutoCloseable {
    /** Output of one command run in the container (or by podman). */
    record Result(int exit, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private final String name;

    private SystemdContainer(String name) {
        this.name = name;
    }

    /**
     * Builds (once per Containerfile + base image) and boots the systemd image; fails, naming what
     * is missing, when podman or the base image is not there.
     */
    static SystemdContainer boot(Path containerfile, String baseImage) throws Exception {
        Result version = podman(60, "version", "--format", "{{.Client.Version}}");
        if (version.exit() != 0) {
            throw new AssertionError("podman does not run (" + version.all().strip() + "): scripts/bootstrap installs it,"
                    + " scripts/containers configures it");
        }
        Result base = podman(60, "image", "inspect", "--format", "{{.Id}}", baseImage);
        if (base.exit() != 0) {
            throw new AssertionError("base image " + baseImage + " is missing (" + base.err().strip()
                    + "): build it with scripts/containers");
        }
        String image = "localhost/moonwalk-systemd-test:" + digest(Files.readString(containerfile) + base.out().strip());
        if (podman(60, "image", "exists", image).exit() != 0) {
            Result built = podman(900, "build", "--build-arg", "BASE=" + baseImage, "-t", image,
                    "-f", containerfile.toString(), containerfile.getParent().toString());
            if (built.exit() != 0) {
                throw new AssertionError("building " + image + " failed:\n" + tail(built.all()));
            }
        }
        String name = "moonwalk-systemd-it-" + ProcessHandle.current().pid();
        podman(60, "rm", "-f", "-t", "0", name);
        Result run = podman(120, "run", "-d", "--name", name, "--systemd=always", "--privileged",
                "--hostname", "moonwalk-systemd-it",
                "-v", "/sys/kernel/tracing:/sys/kernel/tracing", image, "/sbin/init");
        if (run.exit() != 0) {
            throw new AssertionError("podman run of " + image + " failed: " + run.all());
        }
        SystemdContainer c = new SystemdContainer(name);
        // "running" or "degraded" (some container-irrelevant unit failed): either way systemd is up
        // until PID 1 answers on its bus, systemctl fails at once ("Failed to connect to bus")
        long deadline = System.nanoTime() + 120_000_000_000L;
        String s = "";
        while (System.nanoTime() < deadline) {
            Result state = c.exec(120, "systemctl", "is-system-running", "--wait");
            s = state.out().strip();
            if (s.equals("running") || s.equals("degraded")) {
                break;
            }
            s = s + " " + state.err().strip();
            Thread.sleep(500);
        }
        if (!s.equals("running") && !s.equals("degraded")) {
            String why = c.exec(30, "systemctl", "--failed", "--no-pager").all();
            c.close();
            throw new AssertionError("systemd in the container did not come up: '" + s + "'\n" + why);
        }
        return c;
    }

    Result exec(int timeoutSeconds, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("exec", name));
        args.addAll(List.of(command));
        return podman(timeoutSeconds, args.toArray(String[]::new));
    }

    /** Runs {@code command} in the container and returns its stdout; fails with its output when it fails. */
    String check(int timeoutSeconds, String... command) throws Exception {
        Result r = exec(timeoutSeconds, command);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + r.exit() + ":\n" + r.all());
        }
        return r.out();
    }

    void copyIn(Path file, String destination) throws Exception {
        Result r = podman(120, "cp", file.toString(), name + ":" + destination);
        if (r.exit() != 0) {
            throw new AssertionError("podman cp " + file + " failed: " + r.all());
        }
    }

    @Override
    public void close() throws Exception {
        podman(120, "rm", "-f", "-t", "5", name);
    }

    static Result podman(int timeoutSeconds, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("podman");
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("podman-", ".out");
        Path err = Files.createTempFile("podman-", ".err");
        try {
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            } catch (IOException e) {
                return new Result(127, "", "cannot run podman: " + e.getMessage());
            }
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("podman " + String.join(" ", args) + " did not finish within " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String digest(String s) throws NoSuchAlgorithmException {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(d, 0, 6);
    }

    private static String tail(String s) {
        return s.length() <= 4000 ? s : s.substring(s.length() - 4000);
    }
}
