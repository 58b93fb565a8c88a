package io.moonwalk.agent.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.daemon.Readiness;
import io.moonwalk.agent.metrics.AgentMetrics;
import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.ProfileKind;
import io.moonwalk.agent.store.ProfileStore;
import io.moonwalk.agent.store.ProfileStores;
import io.moonwalk.agent.store.StoreHarness;
import io.moonwalk.agent.store.WindowSummary;
import io.moonwalk.frame.CodeMapping;
import io.moonwalk.frame.Frame;
import io.moonwalk.testfixtures.DevTools;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web view as a person uses it, in Debian's headless Chromium against the agent's real HTTP
 * server on loopback: brush the timeline, toggle Lua-only and per-PID split, diff two ranges; and
 * the index page of a generated 24 h store. Screenshots go to {@code target/webview-screenshots}.
 */
class WebViewBrowserTest {
    static final Path SHOTS = Path.of("target", "webview-screenshots");
    static final CodeMapping LUAJIT = new CodeMapping("/usr/bin/luajit", 0x5600_0000_4000L, 0x5600_0008_4000L, 0x4000, "");
    static final CodeMapping NGINX = new CodeMapping("/usr/sbin/nginx", 0x5555_5555_6000L, 0x5555_5565_6000L, 0x2000, "");

    private static Frame c(String name, CodeMapping m) {
        return Frame.nativeCode(name, m.start() + name.hashCode() & 0xfff, m);
    }

    private static Frame lua(String name, int line) {
        return Frame.interpreted("luajit", name, "/srv/app.lua", line, line, false);
    }

    /** A LuaJIT workload whose hot function switches from old_hot to new_hot half-way, beside 4 nginx workers. */
    static Profile switchingWindow(long startMillis, boolean secondHalf) {
        ProcessIdentity lj = new ProcessIdentity(300, "luajit", "/usr/bin/luajit", "");
        List<Profile.Entry> e = new ArrayList<>();
        List<Frame> base = List.of(c("main", LUAJIT), c("lua_pcall", LUAJIT), lua("handler", 10));
        List<Frame> hot = new ArrayList<>(base);
        hot.addAll(List.of(c("lj_BC_FUNCC", LUAJIT), c("lj_cf_pcall", LUAJIT), lua(secondHalf ? "new_hot" : "old_hot",
                secondHalf ? 40 : 20), c("lj_str_rep", LUAJIT), c("memcpy", LUAJIT)));
        e.add(new Profile.Entry(lj, "luajit", hot, Map.of("luajit.vm_state", "c"), 60));
        e.add(new Profile.Entry(lj, "luajit", base, Map.of("luajit.vm_state", "interpreted"), 10));
        for (int w = 0; w < 4; w++) {
            e.add(new Profile.Entry(new ProcessIdentity(401 + w, "nginx", "/usr/sbin/nginx", ""), "nginx",
                    List.of(c("ngx_worker_process_cycle", NGINX), c("ngx_epoll_process_events", NGINX)), Map.of(), 5));
        }
        return new Profile(startMillis * 1_000_000, 5_000_000_000L, 52_631_578L, e);
    }

    private static AgentHttpServer server(ProfileStore... stores) throws Exception {
        AgentHttpServer s = new AgentHttpServer(new InetSocketAddress("127.0.0.1", 0), new AgentMetrics(),
                () -> new Readiness.Result(true, "ok"), () -> new Readiness.Result(true, "ok"),
                new ProfileStores(List.of(stores)), Clock.systemUTC());
        s.start();
        return s;
    }

    /** The mmap calls of {@link #switchingWindow}'s span: old_hot maps 30 times a window, new_hot 90 times. */
    static Profile mappingWindow(long startMillis, boolean secondHalf) {
        ProcessIdentity lj = new ProcessIdentity(300, "luajit", "/usr/bin/luajit", "");
        List<Frame> stack = List.of(c("main", LUAJIT), c("lua_pcall", LUAJIT), lua("handler", 10),
                lua(secondHalf ? "new_hot" : "old_hot", secondHalf ? 40 : 20), c("lj_mcode_alloc", LUAJIT),
                c("mmap", LUAJIT));
        return new Profile(startMillis * 1_000_000, 5_000_000_000L, 0, List.of(
                new Profile.Entry(lj, "luajit", stack, Map.of(), secondHalf ? 90 : 30)),
                io.moonwalk.agent.profile.SampleType.MMAP);
    }

    /** The off-CPU profile of {@link #switchingWindow}'s span: the handler blocks in old_wait, then in new_wait. */
    static Profile blockingWindow(long startMillis, boolean secondHalf) {
        ProcessIdentity lj = new ProcessIdentity(300, "luajit", "/usr/bin/luajit", "");
        List<Frame> stack = List.of(c("main", LUAJIT), c("lua_pcall", LUAJIT), lua("handler", 10),
                lua(secondHalf ? "new_wait" : "old_wait", secondHalf ? 50 : 30), c("wait4", LUAJIT));
        return new Profile(startMillis * 1_000_000, 5_000_000_000L, 0, List.of(
                new Profile.Entry(lj, "luajit", stack, Map.of(), 200_000_000L), // 200 ms blocked per window
                new Profile.Entry(lj, "luajit", List.of(c("main", LUAJIT), c("epoll_wait", LUAJIT)), Map.of(),
                        4_000_000_000L)), io.moonwalk.agent.profile.SampleType.OFF_CPU);
    }

    @Test
    void cpuOffCpuMmapToggleAndAnOffCpuDiff(@TempDir Path dir) throws Exception {
        long now = System.currentTimeMillis();
        long first = now - 40 * 5000L;
        ProfileStore store = new ProfileStore(dir, 1L << 30, Duration.ofHours(24), Clock.systemUTC());
        ProfileStore off = new ProfileStore(dir, 1L << 30, Duration.ofHours(24), Clock.systemUTC(),
                ProfileKind.OFF_CPU);
        ProfileStore mmap = new ProfileStore(dir, 1L << 30, Duration.ofHours(24), Clock.systemUTC(), ProfileKind.MMAP);
        for (int i = 0; i < 40; i++) {
            store.write(switchingWindow(first + i * 5000L, i >= 20));
            off.write(blockingWindow(first + i * 5000L, i >= 20));
            mmap.write(mappingWindow(first + i * 5000L, i >= 20));
        }
        long half = first + 20 * 5000L;
        try (AgentHttpServer http = server(store, off, mmap); DevTools b = new DevTools()) {
            String base = "http://127.0.0.1:" + http.address().getPort();
            b.open(base + "/flamegraph?from=" + first + "&to=" + (now + 1));
            assertThat(b.eval("document.querySelector('#type-cpu').tagName")).isEqualTo("B");
            b.markPage();
            b.eval("document.getElementById('type-offcpu').click()");
            b.awaitRendered();
            assertThat(b.eval("location.search")).contains("type=offcpu").contains("from=" + first);
            assertThat(b.eval("document.querySelector('#type-offcpu').tagName")).isEqualTo("B");
            // values are time blocked: 40 windows x (200 ms + 4 s)
            String texts = b.eval("Array.from(document.querySelectorAll('#frame-text li')).map(x => x.textContent).join('|')");
            assertThat(texts).contains("all \u2014 168.00 s off-cpu").contains("epoll_wait \u2014 160.00 s off-cpu")
                    .doesNotContain("samples");
            assertThat(b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).map(r => r.getAttribute('data-fn')).join('|')"))
                    .contains("old_wait (/srv/app.lua:30)").contains("new_wait (/srv/app.lua:50)");
            // the table gives time too: epoll_wait's self is 40 x 4 s
            assertThat(b.eval("document.querySelector('#top-table tbody tr td:nth-child(2)').textContent"))
                    .isEqualTo("160.00 s (95.24%)");
            assertThat(b.eval("document.querySelector('#timeline').textContent")).contains("ms blocked/s");
            b.screenshot(SHOTS.resolve("5-offcpu.png"));

            // an off-CPU diff: first half as baseline, second half against it
            b.markPage();
            b.eval("location.assign(location.pathname + '?type=offcpu&bfrom=" + first + "&bto=" + half + "&from="
                    + half + "&to=" + (now + 1) + "')");
            b.awaitRendered();
            String topRow = b.eval("document.querySelector('#top-table tbody tr').getAttribute('data-fn')");
            String topChange = b.eval("document.querySelector('#top-table tbody tr td:last-child').textContent");
            String lastRow = b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).pop().getAttribute('data-fn')");
            System.out.println("webview off-CPU diff: biggest gain " + topRow + " " + topChange + ", biggest loss " + lastRow);
            assertThat(topRow).isEqualTo("new_wait (/srv/app.lua:50)");
            assertThat(topChange).startsWith("+");
            assertThat(lastRow).isEqualTo("old_wait (/srv/app.lua:30)");

            // the mmap calls profile of the same range: values are calls, 20 x 30 + 20 x 90
            b.markPage();
            b.eval("document.getElementById('type-mmap').click()");
            b.awaitRendered();
            assertThat(b.eval("location.search")).contains("type=mmap").contains("bfrom=" + first);
            assertThat(b.eval("document.querySelector('#type-mmap').tagName")).isEqualTo("B");
            b.markPage();
            b.eval("location.assign(location.pathname + '?type=mmap&from=" + first + "&to=" + (now + 1) + "')");
            b.awaitRendered();
            String mmapTexts = b.eval("Array.from(document.querySelectorAll('#frame-text li')).map(x => x.textContent).join('|')");
            assertThat(mmapTexts).contains("all \u2014 2,400 mmap_calls").doesNotContain("samples");
            assertThat(b.eval("document.getElementById('summary').textContent")).startsWith("Total mmap-calls: 2,400");
            assertThat(b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).map(r => r.getAttribute('data-fn')).join('|')"))
                    .contains("new_hot (/srv/app.lua:40)").contains("old_hot (/srv/app.lua:20)");
            assertThat(b.eval("document.querySelector('#timeline').textContent")).contains("calls/s");
            b.screenshot(SHOTS.resolve("6-mmap.png"));

            // and back to CPU keeps the range
            b.markPage();
            b.eval("document.getElementById('type-cpu').click()");
            b.awaitRendered();
            assertThat(b.eval("location.search")).doesNotContain("type=").contains("from=" + first);
            assertThat(b.eval("Array.from(document.querySelectorAll('#frame-text li')).map(x => x.textContent).join('|')"))
                    .contains("samples");

            HttpClient hc = HttpClient.newHttpClient();
            String index = hc.send(HttpRequest.newBuilder(URI.create(base + "/?type=offcpu")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(index).contains("Off-CPU timeline (time blocked)", "<th>time blocked</th>", "4200.0 ms</td>",
                    "&amp;type=offcpu\">flame graph</a>", "<a id=\"type-mmap\" href=\"/?type=mmap\">");
            String mmapIndex = hc.send(HttpRequest.newBuilder(URI.create(base + "/?type=mmap")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(mmapIndex).contains("mmap calls timeline", "<th>calls</th>", "<td class=\"n\">90</td>",
                    "&amp;type=mmap\">flame graph</a>", "<b id=\"type-mmap\">", "\"unit\":\"calls/s\"");
            assertThat(hc.send(HttpRequest.newBuilder(URI.create(base + "/flamegraph?type=wall")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
        }
        // an agent with CPU and off-CPU only: the toggle offers those two; the mmap pages say how to turn it on
        try (AgentHttpServer http = server(store, off); DevTools b = new DevTools()) {
            String base = "http://127.0.0.1:" + http.address().getPort();
            b.open(base + "/flamegraph?from=" + first + "&to=" + (now + 1));
            assertThat(b.eval("Array.from(document.querySelectorAll('#type-toggle [id]')).map(x => x.id).join('|')"))
                    .isEqualTo("type-cpu|type-offcpu");
            assertThat(offPage(b, base, "mmap")).contains("The mmap event profile is off").contains("--mmap-events")
                    .contains("mmap-events = 10ms").contains("MOONWALK_MMAP_EVENTS=10ms");
        }
        // an agent recording CPU alone: no toggle at all; a bookmarked off-CPU page says how to turn it on
        try (AgentHttpServer http = server(store); DevTools b = new DevTools()) {
            String base = "http://127.0.0.1:" + http.address().getPort();
            b.open(base + "/");
            assertThat(b.eval("String(document.getElementById('type-toggle'))")).isEqualTo("null");
            b.open(base + "/flamegraph?from=" + first + "&to=" + (now + 1));
            assertThat(b.eval("document.querySelectorAll('#type-toggle [id]').length")).isEqualTo("0");
            assertThat(offPage(b, base, "offcpu")).contains("The off-CPU profile is off").contains("--off-cpu")
                    .contains("off-cpu = 1ms").contains("MOONWALK_OFF_CPU=1ms");
        }
    }

    /**
     * The text of the page of a profile {@code type} the agent does not record, as the browser shows it; its flame
     * graph URL gets 404 with the same flag named.
     */
    private static String offPage(DevTools b, String base, String type) throws Exception {
        b.open(base + "/?type=" + type);
        String text = b.eval("document.getElementById('" + type + "-off').textContent");
        HttpResponse<String> fg = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(base + "/flamegraph?type=" + type)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(fg.statusCode()).isEqualTo(404);
        assertThat(fg.body()).contains(type.equals("mmap") ? "--mmap-events" : "--off-cpu");
        return text;
    }

    private static double num(DevTools b, String expr) throws Exception {
        return Double.parseDouble(b.eval(expr));
    }

    @Test
    void brushLuaOnlySplitAndDiffAsAUserDoes(@TempDir Path dir) throws Exception {
        long now = System.currentTimeMillis();
        long first = now - 240 * 5000L;
        ProfileStore store = new ProfileStore(dir, 1L << 30, Duration.ofHours(24), Clock.systemUTC());
        for (int i = 0; i < 240; i++) {
            // the VM's JIT health: traces grow, a flush at the switch empties them
            int traces = i < 120 ? 10 + i : i - 120;
            // trace aborts after the switch: a site with a name that must stay text
            store.write(switchingWindow(first + i * 5000L, i >= 120), List.of(new WindowSummary.VmHealth("300/vm1",
                    traces, 65536f * (1 + traces / 40), 524288, i < 120 ? 0 : 1)), i < 120 ? List.of()
                    : List.of(new WindowSummary.AbortSite("300/vm1", "function <app.lua:3> (<b>x</b>.lua:5)",
                            "NYI: bytecode", 2)));
        }
        long half = first + 120 * 5000L;
        try (AgentHttpServer http = server(store); DevTools b = new DevTools()) {
            String base = "http://127.0.0.1:" + http.address().getPort();
            b.open(base + "/flamegraph?from=" + first + "&to=" + (now + 1));
            b.screenshot(SHOTS.resolve("1-whole-range.png"));
            // JIT health: three charts for the one VM, aligned with the timeline (same plot left edge and width)
            assertThat(b.eval("document.getElementById('jit-health').getAttribute('data-vms')")).isEqualTo("1");
            // the abort sites of the stored windows, summed: one row, its site as text (no element injected)
            assertThat(b.eval("document.getElementById('jit-health').getAttribute('data-abort-rows')")).isEqualTo("1");
            assertThat(b.eval("Array.from(document.querySelectorAll('.jit-aborts td')).map(t => t.textContent)"
                    + ".slice(0, 5).join('|')")).isEqualTo(
                    "300/vm1|function <app.lua:3> (<b>x</b>.lua:5)|NYI: bytecode|240|120");
            assertThat(b.eval("document.querySelectorAll('.jit-aborts b').length")).isEqualTo("0");
            assertThat(b.eval("document.querySelectorAll('#jit-health .u-over').length")).isEqualTo("3");
            assertThat(b.eval("Array.from(document.querySelectorAll('#timeline-box .u-over')).map(o => Math.round("
                    + "o.getBoundingClientRect().left) + ':' + Math.round(o.getBoundingClientRect().width)).join(' ')")
                    .split(" ")).hasSize(4).containsOnly(b.eval("Math.round(document.querySelector('#timeline .u-over')"
                    + ".getBoundingClientRect().left) + ':' + Math.round(document.querySelector('#timeline .u-over')"
                    + ".getBoundingClientRect().width)"));
            assertThat(b.eval("document.querySelector('#top-table tbody tr').getAttribute('data-fn')"))
                    .isEqualTo("memcpy"); // the C leaf both halves end in: the biggest self
            assertThat(b.eval("Array.from(document.querySelectorAll('#frame-text li')).map(x => x.textContent).join('|')"))
                    .contains("old_hot (/srv/app.lua:20)").contains("new_hot (/srv/app.lua:40)")
                    .contains("nginx (4 processes)");

            // brush the first quarter of the timeline: the graph and table show only that range
            double left = num(b, "document.querySelector('#timeline .u-over').getBoundingClientRect().left");
            double width = num(b, "document.querySelector('#timeline .u-over').getBoundingClientRect().width");
            double top = num(b, "document.querySelector('#timeline .u-over').getBoundingClientRect().top");
            b.markPage();
            b.drag(left + width * 0.02, left + width * 0.25, top + 40);
            b.awaitRendered();
            String url = b.eval("location.href");
            long from = Long.parseLong(url.replaceAll(".*[?&]from=(\\d+).*", "$1"));
            long to = Long.parseLong(url.replaceAll(".*[?&]to=(\\d+).*", "$1"));
            assertThat(from).isGreaterThanOrEqualTo(first - 10_000);
            assertThat(to).isLessThan(half);
            String texts = b.eval("Array.from(document.querySelectorAll('#frame-text li')).map(x => x.textContent).join('|')");
            assertThat(texts).contains("old_hot (/srv/app.lua:20)").doesNotContain("new_hot");
            assertThat(b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).map(r => r.getAttribute('data-fn')).join('|')"))
                    .contains("old_hot (/srv/app.lua:20)").doesNotContain("new_hot");
            b.screenshot(SHOTS.resolve("2-brushed.png"));

            // a table row click highlights that function in the graph (the search matches it)
            b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).find(r => r.getAttribute('data-fn').startsWith('old_hot')).click()");
            assertThat(b.eval("document.getElementById('match').textContent")).startsWith("Matched: ");
            assertThat(b.eval("document.getElementById('search').value")).contains("old_hot");

            // Lua only: no native frame between two Lua frames, the C leaf stays, folds are marked
            String mixed = b.eval("JSON.stringify(moonwalkPaths())");
            assertThat(mixed).contains("lua>native>native>lua");
            b.eval("document.getElementById('luaonly').click()");
            String paths = b.eval("JSON.stringify(moonwalkPaths())");
            for (String p : paths.replaceAll("[\\[\\]\"]", "").split(",")) {
                assertThat(p.replace("*", "")).as(p).doesNotContainPattern("lua(_jit)?>(native|kernel)(>(native|kernel))*>lua");
            }
            assertThat(paths).contains("lua>lua*>native*"); // handler > (folded) old_hot > lj_str_rep (memcpy folded)
            assertThat(b.eval("location.hash")).contains("lua=1");
            b.screenshot(SHOTS.resolve("3-lua-only.png"));

            // per-PID split one click away
            b.eval("document.getElementById('split').click()");
            assertThat(b.eval("Array.from(document.querySelectorAll('#frame-text li')).map(x => x.textContent).join('|')"))
                    .contains("nginx (pid 401)").contains("nginx (pid 404)").doesNotContain("4 processes");

            // diff: this range becomes the baseline, then brush the second half
            b.markPage();
            b.eval("document.getElementById('set-baseline').click()");
            b.awaitRendered();
            assertThat(b.eval("location.search")).contains("bfrom=" + from).contains("bto=" + to);
            b.markPage();
            b.drag(left + width * 0.6, left + width * 0.98, top + 40);
            b.awaitRendered();
            assertThat(b.eval("location.search")).contains("bfrom=").contains("from=");
            String topRow = b.eval("document.querySelector('#top-table tbody tr').getAttribute('data-fn')");
            String topChange = b.eval("document.querySelector('#top-table tbody tr td:last-child').textContent");
            assertThat(topRow).isEqualTo("new_hot (/srv/app.lua:40)");
            assertThat(topChange).startsWith("+");
            String lastRow = b.eval("Array.from(document.querySelectorAll('#top-table tbody tr')).pop().getAttribute('data-fn')");
            assertThat(lastRow).isEqualTo("old_hot (/srv/app.lua:20)");
            System.out.println("webview: diff biggest gain " + topRow + " " + topChange + ", biggest loss " + lastRow);
            b.screenshot(SHOTS.resolve("4-diff.png"));

            // hostile requests get a clear 4xx
            HttpClient hc = HttpClient.newHttpClient();
            for (String q : List.of("from=abc", "from=5&to=1", "bfrom=5", "pid=-1", "x=" + "a".repeat(5000),
                    "vmstate=" + "s".repeat(100))) {
                HttpResponse<String> r = hc.send(HttpRequest.newBuilder(URI.create(base + "/flamegraph?" + q)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(q + ": " + r.body()).isEqualTo(400);
                assertThat(r.body()).startsWith("bad query: ");
            }
            HttpResponse<String> post = hc.send(HttpRequest.newBuilder(URI.create(base + "/flamegraph"))
                    .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
            try (Socket s = new Socket("127.0.0.1", http.address().getPort())) {
                s.setSoTimeout(10_000);
                OutputStream o = s.getOutputStream();
                o.write(("GET /flamegraph?" + "a=1&".repeat(20_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                String status = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                assertThat(status).matches("HTTP/1.1 4\\d\\d");
            }
        }
    }

    @Test
    void indexPageOfA24HourStoreLoadsInUnderASecond(@TempDir Path dir) throws Exception {
        long now = System.currentTimeMillis();
        StoreHarness.Result made = StoreHarness.busyHost24h(dir, now);
        System.gc();
        Runtime rt = Runtime.getRuntime();
        long heap0 = rt.totalMemory() - rt.freeMemory();
        long t0 = System.nanoTime();
        ProfileStore store = new ProfileStore(dir, 2L << 30, Duration.ofHours(25), Clock.systemUTC());
        long openMs = (System.nanoTime() - t0) / 1_000_000;
        System.gc();
        long heapMiB = (rt.totalMemory() - rt.freeMemory() - heap0) >> 20; // the index in memory, roughly
        assertThat(store.windowCount()).isEqualTo(made.windows());
        try (AgentHttpServer http = server(store); DevTools b = new DevTools()) {
            String base = "http://127.0.0.1:" + http.address().getPort();
            // CPU time of rendering the index page (the machine's load does not inflate it)
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long[] cpu = new long[5];
            for (int i = 0; i < cpu.length; i++) {
                long c0 = mx.getCurrentThreadCpuTime();
                IndexPage.render(store, java.util.Set.of(ProfileKind.CPU), System.currentTimeMillis());
                cpu[i] = (mx.getCurrentThreadCpuTime() - c0) / 1_000_000;
            }
            Arrays.sort(cpu);
            System.out.println("webview: index page render CPU ms " + Arrays.toString(cpu));
            HttpClient hc = HttpClient.newHttpClient();
            long[] server = new long[5];
            for (int i = 0; i < server.length; i++) {
                long s0 = System.nanoTime();
                HttpResponse<byte[]> r = hc.send(HttpRequest.newBuilder(URI.create(base + "/")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                server[i] = (System.nanoTime() - s0) / 1_000_000;
                assertThat(r.statusCode()).isEqualTo(200);
            }
            Arrays.sort(server);
            long[] loads = new long[5];
            for (int i = 0; i < loads.length; i++) {
                b.open(base + "/");
                loads[i] = Math.round(num(b, "performance.getEntriesByType('navigation')[0].loadEventEnd"));
            }
            long bytes = Long.parseLong(b.eval("performance.getEntriesByType('navigation')[0].transferSize"));
            assertThat(b.eval("document.getElementById('timeline').getAttribute('data-points')")).isEqualTo("720");
            b.screenshot(SHOTS.resolve("5-index-24h.png"));
            b.open(base + "/flamegraph");
            assertThat(b.eval("document.getElementById('jit-health').getAttribute('data-vms')")).isEqualTo("8");
            long viewMs = Math.round(num(b, "performance.getEntriesByType('navigation')[0].loadEventEnd"));
            long viewBytes = Long.parseLong(b.eval("performance.getEntriesByType('navigation')[0].transferSize"));
            b.screenshot(SHOTS.resolve("6-view-24h-last-15min.png"));
            Arrays.sort(loads);
            System.out.printf("webview: 24 h store %d windows, %d MiB on disk, index %d KiB (%d MiB of heap); store open %d ms;"
                    + " index page load (navigation start to load end) %s ms, %d KiB; /flamegraph (last 15 min,"
                    + " whole-store timeline) %d ms, %d KiB; GET / alone %s ms%n", made.windows(), made.bytes() >> 20,
                    made.indexBytes() >> 10, heapMiB, openMs, Arrays.toString(loads), bytes >> 10, viewMs, viewBytes >> 10,
                    Arrays.toString(server));
            assertThat(loads[loads.length / 2]).as("median index page load, ms").isLessThan(1000);
            // the view page merges 180 stored windows: reported, not bounded here (not an acceptance figure)
            long c0 = mx.getCurrentThreadCpuTime();
            Profile merged = store.merged(System.currentTimeMillis() - 15 * 60_000L, System.currentTimeMillis(), e -> true,
                    ProfileStore.MergeLimits.WEB);
            System.out.println("webview: merging the last 15 min (" + merged.entries().size() + " entries) took "
                    + (mx.getCurrentThreadCpuTime() - c0) / 1_000_000 + " ms CPU");
        }
    }
}
