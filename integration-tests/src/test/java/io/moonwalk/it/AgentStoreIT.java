package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Without an endpoint: the local store rotates within its bounds and the web view draws the flame graph. */
class AgentStoreIT {
    // a window of the one LuaJIT process is 4-10 KB (its Lua stacks at 99 Hz): 20 windows must make the store
    // rotate. The agent is limited to that process: windows of the whole host were 10-30 KB on a quiet machine but
    // 98-862 KB beside other builds, each larger than the bound and evicted at once, which left nothing to show
    static final long BOUND = 32 * 1024;

    @Test
    void storeRotatesWithinBoundsAndTheWebViewShowsTheLuaProcess() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        Path dir = Moonwalk.WORK.resolve("store-" + ProcessHandle.current().pid());
        AgentIT.delete(dir);
        Process luajit = new ProcessBuilder("luajit", "-joff", "-e", AgentIT.LUA_LOOP).start();
        try (RunningAgent agent = RunningAgent.start(Map.of(), "--pid", Long.toString(luajit.pid()), "--hz", "99",
                "--interval", "1s", "--store-dir", dir.toString(), "--store-max-size", "32K", "--store-max-age", "1h")) {
            long maxBytes = 0;
            for (int s = 0; s < 20; s++) {
                Thread.sleep(1000);
                maxBytes = Math.max(maxBytes, dirBytes(dir));
            }
            double evicted = agent.metric("moonwalk_store_evicted_windows_total{profile=\"cpu\"}");
            double windows = agent.metric("moonwalk_store_windows{profile=\"cpu\"}");
            double closed = agent.metric("moonwalk_windows_total{outcome=\"delivered\"}");
            System.out.printf("store: %.0f windows closed, %.0f kept, %.0f evicted; max directory size %d B (bound %d);"
                    + " kept windows' files: %s%n", closed, windows, evicted, maxBytes, BOUND, fileSizes(dir));
            assertThat(evicted).as("the size bound made the store rotate").isPositive();
            assertThat(maxBytes).isLessThanOrEqualTo(BOUND);
            // two files (pprof + folded) per kept window; a window may be written or evicted between the two reads
            assertThat(Math.abs(windows * 2 - fileCount(dir))).as("files vs kept windows").isLessThanOrEqualTo(2);

            String index = agent.get("/");
            assertThat(index).contains("luajit (pid " + luajit.pid() + ")");
            Path page = dir.resolveSibling("flamegraph-" + luajit.pid() + ".html");
            Files.writeString(page, agent.get("/flamegraph?pid=" + luajit.pid()));
            assertThat(Files.readString(page)).contains("luajit").doesNotContain("\"command\":\"bash\"");
            Path png = Moonwalk.WORK.resolve("agent-flamegraph.png");
            Files.deleteIfExists(png);
            String dom = chromium(page, png);
            assertThat(dom).contains("luajit (pid " + luajit.pid() + ")");
            assertThat(Files.size(png)).as("screenshot " + png).isGreaterThan(5000);
            System.out.println("store: web view screenshot " + png + " (" + Files.size(png) + " B)");
            agent.terminate();
        } finally {
            luajit.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Debian's headless Chromium renders the page; returns the DOM after scripts ran. */
    static String chromium(Path page, Path screenshot) throws Exception {
        Path profile = Files.createTempDirectory("moonwalk-chromium-");
        try {
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile, "--virtual-time-budget=3000",
                    "--window-size=1200,800", "--force-device-scale-factor=1", "--dump-dom",
                    "--screenshot=" + screenshot.toAbsolutePath(), page.toUri().toString()));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
            assertThat(dom).contains("</html>");
            return dom;
        } finally {
            AgentIT.delete(profile);
        }
    }

    private static long dirBytes(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static String fileSizes(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("window-"))
                    .map(p -> p.getFileName() + " " + p.toFile().length() + " B").sorted().toList().toString();
        }
    }

    private static long fileCount(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("window-")).count();
        }
    }

}
