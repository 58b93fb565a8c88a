package io.moonwalk.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's nginx with one of testdata/nginx's configurations in a temporary prefix on a free loopback port
 * ({@code @PORT@} and the caller's other placeholders substituted); {@link #close()} stops master and workers.
 */
final class NginxServer implements AutoCloseable {
    final Path prefix;
    final int port;
    final Process master;
    /** The first worker, once it accepts connections. */
    final long worker;

    private NginxServer(Path prefix, int port, Process master, long worker) {
        this.prefix = prefix;
        this.port = port;
        this.master = master;
        this.worker = worker;
    }

    /** Starts testdata/nginx/{@code config} with {@code @PORT@} and {@code replacements} substituted. */
    static NginxServer start(String config, String prefixName, Map<String, String> replacements) throws Exception {
        return start(config, prefixName, replacements, Map.of());
    }

    /** ... with {@code env} added to nginx's environment (LD_LIBRARY_PATH for another LuaJIT build). */
    static NginxServer start(String config, String prefixName, Map<String, String> replacements,
            Map<String, String> env) throws Exception {
        Path prefix = Files.createTempDirectory(Moonwalk.WORK, prefixName);
        Files.createDirectories(prefix.resolve("tmp"));
        Files.createDirectories(prefix.resolve("logs"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String text = Files.readString(Moonwalk.ROOT.resolve("testdata/nginx").resolve(config))
                .replace("@PORT@", Integer.toString(port));
        for (Map.Entry<String, String> e : replacements.entrySet()) {
            text = text.replace(e.getKey(), e.getValue());
        }
        Path conf = prefix.resolve("nginx.conf");
        Files.writeString(conf, text);
        ProcessBuilder pb = new ProcessBuilder("nginx", "-p", prefix.toString(), "-c", conf.toString(), "-e", "stderr")
                .redirectErrorStream(true).redirectOutput(prefix.resolve("nginx.out").toFile());
        pb.environment().putAll(env);
        Process master = pb.start();
        try {
            return new NginxServer(prefix, port, master, waitForWorker(master.pid(), port));
        } catch (Exception | AssertionError e) {
            stop(master);
            throw e;
        }
    }

    /** GET {@code path} on this server (loopback, 10 s timeout); fails unless it answers 200. */
    String get(String path) throws IOException, InterruptedException {
        String url = "http://127.0.0.1:" + port + path;
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError(url + " answered " + r.statusCode() + ": " + r.body());
            }
            return r.body();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop(master);
    }

    private static void stop(Process master) throws InterruptedException {
        master.destroy(); // SIGTERM: the master stops its workers
        if (!master.waitFor(10, TimeUnit.SECONDS)) {
            master.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static long waitForWorker(long master, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            List<ProcessHandle> children = ProcessHandle.of(master).map(h -> h.children().toList()).orElse(List.of());
            if (!children.isEmpty()) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return children.get(0).pid();
                } catch (IOException notYet) {
                    // listening socket not open yet
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("nginx did not start a worker listening on " + port);
    }
}
