package io.moonwalk.testfixtures;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven over the DevTools protocol (JDK WebSocket, loopback only), so a
 * test can use a page as a person does: load, drag, click, and read what the page shows.
 */
public final class DevTools implements AutoCloseable {
    public static final String CHROMIUM = "/usr/bin/chromium";
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://127\\.0\\.0\\.1:(\\d+)/\\S+)");
    private static final Pattern PAGE_WS = Pattern.compile("\"type\"\\s*:\\s*\"page\"[^}]*?\"webSocketDebuggerUrl\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern ID = Pattern.compile("^\\{\"id\":(\\d+),");

    private final Process chromium;
    private final Path profileDir;
    private final WebSocket ws;
    private final Map<Integer, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
    private int nextId = 1;

    public DevTools() throws Exception {
        profileDir = Files.createTempDirectory("moonwalk-cdp-");
        chromium = new ProcessBuilder(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "--user-data-dir=" + profileDir, "--window-size=1400,900",
                "--force-device-scale-factor=1", "about:blank").redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader err = new BufferedReader(new InputStreamReader(chromium.getErrorStream(), StandardCharsets.UTF_8));
        String port = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (String line; port == null && System.nanoTime() < deadline && (line = err.readLine()) != null; ) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                port = m.group(2);
            }
        }
        if (port == null) {
            chromium.destroyForcibly();
            throw new IOException("chromium did not print its DevTools address within 30 s");
        }
        Thread.ofPlatform().daemon().start(() -> err.lines().forEach(l -> { })); // keep its stderr drained
        HttpClient http = HttpClient.newHttpClient();
        String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = PAGE_WS.matcher(list);
        if (!m.find()) {
            throw new IOException("no page target in " + list);
        }
        ws = http.newWebSocketBuilder().buildAsync(URI.create(m.group(1)), new WebSocket.Listener() {
            private final StringBuilder buf = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                buf.append(data);
                if (last) {
                    String msg = buf.toString();
                    buf.setLength(0);
                    Matcher id = ID.matcher(msg);
                    if (id.find()) {
                        CompletableFuture<String> f = pending.remove(Integer.parseInt(id.group(1)));
                        if (f != null) {
                            f.complete(msg);
                        }
                    }
                }
                w.request(1);
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
    }

    /** Sends a command; returns the raw JSON answer. */
    public synchronized String send(String method, String paramsJson) throws Exception {
        int id = nextId++;
        CompletableFuture<String> f = new CompletableFuture<>();
        pending.put(id, f);
        ws.sendText("{\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + paramsJson + "}", true).get(10, TimeUnit.SECONDS);
        String answer = f.get(60, TimeUnit.SECONDS);
        if (answer.contains("\"error\":")) {
            throw new IOException(method + " failed: " + answer);
        }
        return answer;
    }

    /** Evaluates a JS expression whose value is a string (or is turned into one by String()). */
    public String eval(String expression) throws Exception {
        String answer = send("Runtime.evaluate", "{\"expression\":" + quote("String(" + expression + ")")
                + ",\"returnByValue\":true}");
        if (answer.contains("\"exceptionDetails\"")) {
            throw new IOException("evaluating " + expression + " threw: " + answer);
        }
        Matcher m = Pattern.compile("\"value\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(answer);
        if (!m.find()) {
            throw new IOException("no string value in " + answer);
        }
        return unquote(m.group(1));
    }

    /** Navigates and waits until the document has loaded and the page says it rendered. */
    public void open(String url) throws Exception {
        markPage();
        send("Page.navigate", "{\"url\":" + quote(url) + "}");
        awaitRendered();
    }

    /** Marks the current document, so {@link #awaitRendered()} waits for the next one. */
    public void markPage() throws Exception {
        eval("window.__moonwalkOld = 1");
    }

    /** Waits until a new document (see {@link #markPage()}) has loaded and says it rendered. */
    public void awaitRendered() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String state = "";
        while (System.nanoTime() < deadline) {
            state = eval("(window.__moonwalkOld ? 'old' : document.readyState) + ' '"
                    + " + (document.documentElement && document.documentElement.getAttribute('data-render'))");
            if (state.equals("complete ok")) {
                return;
            }
            if (state.endsWith(" error")) {
                throw new IOException("the page reported an error: " + eval("document.getElementById('errors').textContent"));
            }
            Thread.sleep(50);
        }
        throw new IOException("page not rendered within 30 s: " + state + " at " + eval("location.href"));
    }

    /** A mouse drag from (x0, y) to (x1, y) in CSS pixels of the viewport. */
    public void drag(double x0, double x1, double y) throws Exception {
        mouse("mouseMoved", x0, y, "none");
        mouse("mousePressed", x0, y, "left");
        for (int i = 1; i <= 10; i++) {
            mouse("mouseMoved", x0 + (x1 - x0) * i / 10, y, "left");
        }
        mouse("mouseReleased", x1, y, "left");
    }

    public void click(double x, double y) throws Exception {
        mouse("mousePressed", x, y, "left");
        mouse("mouseReleased", x, y, "left");
    }

    private void mouse(String type, double x, double y, String button) throws Exception {
        send("Input.dispatchMouseEvent", "{\"type\":\"" + type + "\",\"x\":" + x + ",\"y\":" + y + ",\"button\":\"" + button
                + "\",\"buttons\":" + (button.equals("left") && !type.equals("mouseReleased") ? 1 : 0) + ",\"clickCount\":1}");
    }

    public void screenshot(Path png) throws Exception {
        String answer = send("Page.captureScreenshot", "{\"format\":\"png\",\"captureBeyondViewport\":true}");
        Matcher m = Pattern.compile("\"data\":\"([A-Za-z0-9+/=]+)\"").matcher(answer);
        if (!m.find()) {
            throw new IOException("no screenshot data");
        }
        Files.createDirectories(png.getParent());
        Files.write(png, Base64.getDecoder().decode(m.group(1)));
    }

    public static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    private static String unquote(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'u' -> {
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> sb.append(n);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() throws Exception {
        try {
            ws.abort();
        } finally {
            chromium.destroy();
            if (!chromium.waitFor(10, TimeUnit.SECONDS)) {
                chromium.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            try (Stream<Path> s = Files.walk(profileDir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
