package io.moonwalk.agent.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.moonwalk.agent.daemon.Readiness;
import io.moonwalk.agent.metrics.AgentMetrics;
import io.moonwalk.agent.output.FlameGraphHtmlWriter;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.output.ScriptSafeJson;
import io.moonwalk.agent.store.ProfileKind;
import io.moonwalk.agent.store.ProfileStore;
import io.moonwalk.agent.store.ProfileStores;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The agent's HTTP endpoints on {@code --listen}: {@code /metrics} (Prometheus text),
 * {@code /healthz} and {@code /readyz} (see {@link Readiness}), and when the
 * local store is on, {@code /} (recent windows and processes) and {@code /flamegraph} (the
 * {@code record} flame graph of the stored windows in a time range, optionally one process and one
 * VM state), each for one profile kind the agent records ({@code type}: CPU, off-CPU, mmap calls). Two
 * worker threads: a scrape or a page never competes with sampling for more.
 */
public final class AgentHttpServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AgentHttpServer.class.getName());

    static {
        // The JDK server's own request/response deadlines (seconds); read once when it loads. A client
        // that sends headers slowly or never reads the answer cannot hold one of the two workers.
        setIfAbsent("sun.net.httpserver.maxReqTime", "10");
        setIfAbsent("sun.net.httpserver.maxRspTime", "60");
        setIfAbsent("sun.net.httpserver.maxReqHeaders", "100");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private final HostCheck hosts = new HostCheck();
    private final HttpServer server;
    private final ExecutorService executor;

    /**
     * @param stores the local store's kinds (CPU always; off-CPU and mmap, shown with {@code type=offcpu} and
     *               {@code type=mmap}, when the agent records them; pages of a kind it does not record say how to
     *               turn it on); null without a local store
     */
    public AgentHttpServer(InetSocketAddress address, AgentMetrics metrics, Supplier<Readiness.Result> readiness,
                           Supplier<Readiness.Result> liveness, ProfileStores stores, Clock clock) throws IOException {
        try {
            server = HttpServer.create(address, 32);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort() + " ("
                    + e.getMessage() + "); pick another address with --listen", e);
        }
        executor = Executors.newFixedThreadPool(2, Thread.ofPlatform().name("moonwalk-http-", 0).daemon(true).factory());
        server.setExecutor(executor);
        server.createContext("/metrics", ex -> guarded(ex, () -> respond(ex, 200,
                "text/plain; version=0.0.4; charset=utf-8", metrics.scrape())));
        server.createContext("/healthz", ex -> guarded(ex, () -> {
            Readiness.Result r = liveness.get();
            respond(ex, r.ready() ? 200 : 503, "text/plain; charset=utf-8", r.text());
        }));
        server.createContext("/readyz", ex -> guarded(ex, () -> {
            Readiness.Result r = readiness.get();
            respond(ex, r.ready() ? 200 : 503, "text/plain; charset=utf-8", r.text());
        }));
        server.createContext("/", ex -> guarded(ex, () -> {
            String path = ex.getRequestURI().getPath();
            if (!hosts.allows(ex.getRequestHeaders().getFirst("Host"))) {
                respond(ex, 421, "text/plain; charset=utf-8", "moonwalk: profile pages answer only to an IP address,"
                        + " localhost or this host's name in the Host header (DNS-rebinding protection)\n");
                return;
            }
            if (stores == null) {
                respond(ex, path.equals("/") ? 200 : 404, "text/plain; charset=utf-8",
                        "moonwalk agent: exporting over OTLP (no local store). Endpoints: /metrics /healthz /readyz\n");
            } else if (path.equals("/") || path.equals("/flamegraph")) {
                ProfileKind kind;
                try {
                    kind = ViewQuery.kind(ex.getRequestURI().getRawQuery());
                } catch (IllegalArgumentException e) {
                    respond(ex, 400, "text/plain; charset=utf-8", "bad query: " + e.getMessage() + "\n");
                    return;
                }
                ProfileStore store = stores.get(kind);
                if (store == null) {
                    respond(ex, path.equals("/") ? 200 : 404, "text/html; charset=utf-8",
                            IndexPage.kindOff(kind, stores.kinds()));
                } else if (path.equals("/")) {
                    respond(ex, 200, "text/html; charset=utf-8", IndexPage.render(store, stores.kinds(), clock.millis()));
                } else {
                    flameGraph(ex, store, stores.kinds(), clock);
                }
            } else {
                respond(ex, 404, "text/plain; charset=utf-8", "not found: " + path + "\n");
            }
        }));
    }

    private static void flameGraph(HttpExchange ex, ProfileStore store, Set<ProfileKind> kinds, Clock clock)
            throws IOException {
        ViewQuery q;
        try {
            q = ViewQuery.parse(ex.getRequestURI().getRawQuery(), clock.millis());
        } catch (IllegalArgumentException e) {
            respond(ex, 400, "text/plain; charset=utf-8", "bad query: " + e.getMessage() + "\n");
            return;
        }
        Profile merged;
        Profile baseline = null;
        try {
            merged = store.merged(q.fromMillis(), q.toMillis(), q.filter(), ProfileStore.MergeLimits.WEB);
            if (q.diff()) {
                baseline = store.merged(q.baselineFrom(), q.baselineTo(), q.filter(), ProfileStore.MergeLimits.WEB);
            }
        } catch (ProfileStore.MergeTooLargeException e) {
            respond(ex, 413, "text/plain; charset=utf-8", "moonwalk: " + e.getMessage() + "\n");
            return;
        }
        StringBuilder view = new StringBuilder(32_768);
        view.append("{\"from\":").append(q.fromMillis()).append(",\"to\":").append(q.toMillis())
                .append(",\"bfrom\":").append(q.diff() ? q.baselineFrom() : "null")
                .append(",\"bto\":").append(q.diff() ? q.baselineTo() : "null")
                .append(",\"pid\":").append(q.pid()).append(",\"type\":\"").append(q.kind().id()).append("\",\"types\":[");
        String sep = "";
        for (ProfileKind k : kinds) { // the toggle offers the kinds the agent records
            view.append(sep).append("[\"").append(k.id()).append("\",");
            ScriptSafeJson.appendString(view, k.title());
            view.append(']');
            sep = ",";
        }
        view.append("],\"timeline\":")
                .append(TimelineData.json(store.windows(), q.pid(), q.kind() == ProfileKind.CPU, q.kind()))
                .append('}');
        ByteArrayOutputStream html = new ByteArrayOutputStream(1 << 16);
        new FlameGraphHtmlWriter().write(merged, baseline, view.toString(), WebAssets.HEAD, html);
        respond(ex, 200, "text/html; charset=utf-8", html.toByteArray());
    }

    private interface Action {
        void run() throws IOException;
    }

    private static void guarded(HttpExchange ex, Action a) {
        try (ex) {
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                respond(ex, 405, "text/plain; charset=utf-8", "only GET\n");
                return;
            }
            a.run();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "HTTP " + ex.getRequestURI() + " failed: " + e);
            try {
                respond(ex, 500, "text/plain; charset=utf-8", "internal error: " + e.getMessage() + "\n");
            } catch (IOException | RuntimeException ignored) {
                // headers already sent: the client sees a truncated answer
            }
        }
    }

    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        respond(ex, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void respond(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    public void start() {
        server.start();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

}
