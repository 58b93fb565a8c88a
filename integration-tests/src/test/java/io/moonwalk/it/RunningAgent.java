package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/** {@code moonwalk agent} started from the built jar in the background, as a service manager would. */
final class RunningAgent implements AutoCloseable {
    final Process process;
    final Path err;
    final int httpPort;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private RunningAgent(Process process, Path err, int httpPort) {
        this.process = process;
        this.err = err;
        this.httpPort = httpPort;
    }

    /** Starts the agent (heap capped at 256 MB, as the systemd unit does) and waits until it samples. */
    static RunningAgent start(Map<String, String> env, String... args) throws Exception {
        return start("256m", 30, env, args);
    }

    /** As {@link #start(Map, String...)} with another heap cap and start-up deadline (seconds). */
    static RunningAgent start(String heap, int startSeconds, Map<String, String> env, String... args) throws Exception {
        Files.createDirectories(Moonwalk.WORK);
        int port = ProfilesReceiver.freePort();
        List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                // the whole heap committed and touched at start: RSS then moves only with memory outside the
                // heap, which is what the RSS bounds of the ITs are about (the heap itself is capped, and
                // exhausting it ends the agent: -XX:+ExitOnOutOfMemoryError fails the test)
                "-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch", "-XX:+ExitOnOutOfMemoryError",
                "--enable-native-access=ALL-UNNAMED", "-jar", Moonwalk.JAR.toString(), "agent",
                "--listen", "127.0.0.1:" + port));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(Moonwalk.WORK, "agent", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().keySet().removeIf(k -> k.startsWith("OTEL_") || k.startsWith("MOONWALK_"));
        pb.environment().putAll(env);
        RunningAgent a = new RunningAgent(pb.start(), err, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(startSeconds);
        while (!a.stderr().contains("agent sampling") && a.process.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(a.stderr()).as("the agent announces that it samples").contains("agent sampling");
        return a;
    }

    String stderr() throws IOException {
        return Files.readString(err);
    }

    String get(String path) throws Exception {
        return getResponse(path).body();
    }

    HttpResponse<String> getResponse(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A metric's value from /metrics: the sample line starting with {@code series} (name plus labels). */
    double metric(String series) throws Exception {
        for (String line : get("/metrics").lines().toList()) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in /metrics");
    }

    /** Resident set size of the agent JVM, in KiB. */
    long rssKib() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS for " + process.pid());
    }

    /**
     * Ids of the mw_ programs this agent holds fds of (/proc/PID/fdinfo; Debian's bpftool shows no owner pids, and
     * other tests load mw_ programs concurrently).
     */
    Set<Integer> programIds() throws Exception {
        Set<Integer> ids = new TreeSet<>(RecordIT.moonwalkProgramIds());
        ids.retainAll(RecordIT.heldBy(process.pid()));
        return ids;
    }

    /** Sends SIGTERM; returns the milliseconds until the process exited. */
    long terminate() throws Exception {
        long t0 = System.nanoTime();
        Moonwalk.tool("kill", "-TERM", String.valueOf(process.pid()));
        assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("the agent exits after SIGTERM").isTrue();
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
