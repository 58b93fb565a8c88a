package io.moonwalk.agent.metrics;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.daemon.Agent;
import io.moonwalk.agent.daemon.AgentOptions;
import io.moonwalk.agent.collect.ProcessSelector;
import io.moonwalk.agent.daemon.WindowWorker;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The unwinder's meters on the real registry, fed by a real agent (real kernel, root) profiling a real
 * {@code luajit -joff} process: they exist before the agent attaches and move while it runs.
 */
@Tag("kernel")
class UnwinderMetricsTest {
    private static final String LUA = "local function f(n) if n < 2 then return n end return f(n-1) + f(n-2) end "
            + "while true do f(25) end";

    @Test
    void mapFillTableBuildsLuajitDetectionAndLuaNamingMove() throws Exception {
        AgentMetrics metrics = new AgentMetrics();
        Process luajit = new ProcessBuilder("luajit", "-joff", "-e", LUA).start();
        try {
            WindowWorker worker = new WindowWorker(List.of(), metrics::recordWindow);
            Agent agent = new Agent(new AgentOptions(99, Set.of((int) luajit.pid()), ProcessSelector.ALL,
                    Duration.ofMillis(700), 0, SamplerOptions.DEFAULT_RING_BUFFER_BYTES, Duration.ofSeconds(2)),
                    worker);
            metrics.bindAgent(agent);
            String before = metrics.scrape();
            assertThat(value(before, "moonwalk_bpf_map_entries{map=\"pid_maps\"}")).isZero();
            assertThat(value(before, "moonwalk_unwind_tables_builds_total")).isZero();

            CountDownLatch attached = new CountDownLatch(1);
            Thread loop = Thread.ofPlatform().start(() -> agent.run(attached::countDown));
            assertThat(attached.await(20, TimeUnit.SECONDS)).as("agent attached").isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            String text = metrics.scrape();
            while (value(text, "moonwalk_lua_frames_total{result=\"named\"}") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
                text = metrics.scrape();
            }
            agent.requestStop();
            loop.join(TimeUnit.SECONDS.toMillis(10));
            System.out.println(text.lines().filter(l -> l.startsWith("moonwalk_bpf_map") || l.startsWith("moonwalk_unwind_t")
                    || l.startsWith("moonwalk_lua") || l.startsWith("moonwalk_symbolize")).reduce("", (a, b) -> a + b + "\n"));

            assertThat(value(text, "moonwalk_bpf_map_entries{map=\"pid_maps\"}")).isPositive();
            assertThat(value(text, "moonwalk_bpf_map_capacity{map=\"pid_maps\"}"))
                    .isGreaterThan(value(text, "moonwalk_bpf_map_entries{map=\"pid_maps\"}"));
            assertThat(value(text, "moonwalk_bpf_map_entries{map=\"unwind_entries\"}")).isPositive();
            assertThat(value(text, "moonwalk_bpf_map_entries{map=\"luajit_files\"}")).isEqualTo(1);
            assertThat(text).contains("moonwalk_bpf_map_drops_total{map=\"unwind_rules\"}");
            assertThat(value(text, "moonwalk_unwind_tables_builds_total")).isPositive();
            assertThat(value(text, "moonwalk_unwind_tables_live")).isPositive();
            assertThat(value(text, "moonwalk_unwind_tables_live_entries"))
                    .isEqualTo(value(text, "moonwalk_bpf_map_entries{map=\"unwind_entries\"}"));
            assertThat(value(text, "moonwalk_luajit_binaries_detected_total")).isEqualTo(1);
            assertThat(value(text, "moonwalk_luajit_files_examined_total"))
                    .isGreaterThan(value(text, "moonwalk_luajit_binaries_detected_total"));
            assertThat(value(text, "moonwalk_luajit_binaries_refused_total")).isZero();
            assertThat(value(text, "moonwalk_lua_frames_total{result=\"named\"}")).isPositive();
            assertThat(value(text, "moonwalk_lua_proto_prefetch_total{result=\"read\"}")).isPositive();
            assertThat(value(text, "moonwalk_lua_proto_cache_hits_total")).isPositive();
            assertThat(text).contains("moonwalk_lua_frames_total{result=\"stale\"}")
                    .contains("moonwalk_lua_frames_total{result=\"invalid\"}")
                    .contains("moonwalk_lua_proto_prefetch_total{result=\"dropped\"}")
                    .contains("moonwalk_symbolize_unknown_frames_total{kind=\"native\"}");
        } finally {
            luajit.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** The value of one Prometheus sample line, 0 if absent. */
    static double value(String text, String series) {
        return text.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim())).orElse(0.0);
    }
}
