package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Fault containment and health, on the real agent and kernel: a test-only fault (system property
 * {@code moonwalk.test.inject-fault=stage:kind:target}) makes one stage throw an {@link Error} for one process
 * (LuaJIT process A) or every call, while a second LuaJIT process B runs beside it. The agent must go on: the fault
 * is counted in {@code moonwalk_contained_failures_total{stage}}, the other process's windows keep coming, and
 * {@code /readyz} and {@code /healthz} answer 200 with the worker threads alive. A thread that dies anyway, or a
 * stage that stalls, is named by {@code /readyz} and {@code /healthz} (503), and the agent ends itself (exit 6) so
 * that it is restarted. docs/hardening.md has the table of these faults.
 */
class ContainmentIT {
    private static Process a;
    private static Process b;

    @BeforeAll
    static void workloads() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        a = new ProcessBuilder("luajit", "-e", AgentIT.LUA_LOOP).start();
        b = new ProcessBuilder("luajit", "-e", AgentIT.LUA_LOOP).start();
    }

    @AfterAll
    static void stop() throws Exception {
        for (Process p : new Process[] {a, b}) {
            if (p != null) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static RunningAgent agent(String fault, Path store) throws Exception {
        String spec = fault.replace("A", Long.toString(a.pid()));
        int closed = ProfilesReceiver.freePort(); // metrics pushes fail there (not a readiness matter)
        return RunningAgent.start("256m", 60, List.of("-Dmoonwalk.test.inject-fault=" + spec),
                Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://127.0.0.1:" + closed),
                "--pid", Long.toString(a.pid()), "--pid", Long.toString(b.pid()), "--hz", "99", "--interval", "1s",
                "--metrics-interval", "1s", "--store", "on", "--store-dir", store.toString());
    }

    private static void await(String what, int seconds, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as("within %d s: %s", seconds, what).isTrue();
            Thread.sleep(250);
        }
    }

    private static double failures(RunningAgent agent, String stage) {
        try {
            return agent.metric("moonwalk_contained_failures_total{stage=\"" + stage + "\"}");
        } catch (Exception | AssertionError e) {
            return -1;
        }
    }

    private static String folded(Path store) throws Exception {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.list(store)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".folded")).sorted().toList()) {
                sb.append(Files.readString(f));
            }
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "presync:error:A, presync",
            "drain:error:A, drain",
            "map_sync:error:A, map_sync",
            "jit_sync:error:A, jit_sync",
            "proto_prefetch:error:*, proto_prefetch",
            "window:error:A, window",
            "window_sink:error:1, window_sink",
            "metrics_push:error:*, metrics_push",
    })
    void anErrorInOneStageIsCountedAndTheAgentGoesOn(String fault, String stage, @TempDir Path store) throws Exception {
        try (RunningAgent agent = agent(fault, store)) {
            // the agent goes on: windows keep coming (the faults start with the first process, record or window),
            // and B (never faulted) is named in them
            await("four windows delivered", 40, () -> {
                try {
                    return agent.process.isAlive()
                            && agent.metric("moonwalk_windows_total{outcome=\"delivered\"}") >= 4;
                } catch (Exception e) {
                    return false;
                }
            });
            await("a contained " + stage + " failure is counted", 30, () -> failures(agent, stage) >= 1);
            String folded = folded(store);
            // Lua frames named in the stored windows (B's at least: A's are the faulted ones where the fault is per pid)
            assertThat(folded).as("Lua frames named in the stored windows").contains("fib (");
            if (stage.equals("window")) {
                assertThat(folded).as("A's stacks keep an error frame").contains("luajit;[naming failed] ");
            }
            HttpResponse<String> ready = agent.getResponse("/readyz");
            HttpResponse<String> live = agent.getResponse("/healthz");
            System.out.printf("fault %s: %.0f contained, %.0f windows; /readyz %d, /healthz %d%n", fault,
                    failures(agent, stage), agent.metric("moonwalk_windows_total{outcome=\"delivered\"}"),
                    ready.statusCode(), live.statusCode());
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
            assertThat(ready.body()).doesNotContain(": dead").doesNotContain("stalled")
                    .contains("contained failures in " + stage + ": ");
            assertThat(agent.process.isAlive()).isTrue();
            agent.terminate();
            assertThat(agent.process.exitValue()).as(agent.stderr()).isZero();
        }
    }

    @Test
    void aWorkerThatDiesIsNamedByBothProbesAndTheAgentExits6(@TempDir Path store) throws Exception {
        try (RunningAgent agent = agent("map_sync:escape:*", store)) {
            HttpResponse<String>[] answers = new HttpResponse[2];
            await("/readyz and /healthz name the dead map-sync thread", 30, () -> {
                try {
                    answers[0] = agent.getResponse("/readyz");
                    answers[1] = agent.getResponse("/healthz");
                    return answers[0].body().contains("map-sync: dead") && answers[1].statusCode() == 503;
                } catch (Exception e) {
                    return false;
                }
            });
            System.out.printf("dead worker: /readyz %d %s| /healthz %d %s%n", answers[0].statusCode(),
                    answers[0].body().replace('\n', '|'), answers[1].statusCode(), answers[1].body().replace('\n', '|'));
            assertThat(answers[0].statusCode()).isEqualTo(503);
            assertThat(answers[0].body()).contains("worker moonwalk-map-sync: dead");
            assertThat(answers[1].body()).startsWith("wedged").contains("worker moonwalk-map-sync: dead");
            assertThat(agent.process.waitFor(40, TimeUnit.SECONDS)).as("the agent ends itself").isTrue();
            assertThat(agent.process.exitValue()).as(agent.stderr()).isEqualTo(6);
            assertThat(agent.stderr()).contains("the agent is wedged; exiting with code 6");
        }
    }

    @Test
    void aStalledWindowNamingWedgesTheDrainAndBothProbesSaySo(@TempDir Path store) throws Exception {
        try (RunningAgent agent = agent("window:stall:A", store)) {
            HttpResponse<String>[] answers = new HttpResponse[2];
            await("/readyz fails on the stalled naming", 30, () -> {
                try {
                    answers[0] = agent.getResponse("/readyz");
                    return answers[0].statusCode() == 503 && answers[0].body().contains("window-naming: stalled");
                } catch (Exception e) {
                    return false;
                }
            });
            assertThat(answers[0].body()).contains("drain: no ring-buffer drain for")
                    .contains("worker moonwalk-window-naming: stalled");
            await("/healthz fails once the drain is wedged for 30 s", 45, () -> {
                try {
                    answers[1] = agent.getResponse("/healthz");
                    return answers[1].statusCode() == 503;
                } catch (Exception e) {
                    return false;
                }
            });
            System.out.printf("stall: /readyz %d %s| /healthz %d %s%n", answers[0].statusCode(),
                    answers[0].body().replace('\n', '|'), answers[1].statusCode(), answers[1].body().replace('\n', '|'));
            assertThat(answers[1].body()).startsWith("wedged").contains("drain: wedged");
            assertThat(agent.process.waitFor(40, TimeUnit.SECONDS)).as("the agent ends itself").isTrue();
            assertThat(agent.process.exitValue()).as(agent.stderr()).isEqualTo(6);
        }
    }
}
