package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The agent when its receiver is down or slow: sampling goes on, memory stays bounded, losses are counted. */
class AgentResilienceIT {
    static Process luajit;

    @BeforeAll
    static void workload() throws Exception {
        assertThat(Moonwalk.isRoot()).as("the integration tests load BPF programs: run them as root").isTrue();
        luajit = new ProcessBuilder("luajit", "-joff", "-e", AgentIT.LUA_LOOP).start();
    }

    @AfterAll
    static void stopWorkload() throws Exception {
        luajit.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    @Test
    void receiverDownForSixtySecondsThenBack() throws Exception {
        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.startGrpc();
            // whole host at 99 Hz with 1 s windows: each window is a request of some KB, so a 64 KB
            // queue fills within the outage
            try (RunningAgent agent = RunningAgent.start(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpcEndpoint()),
                    "--hz", "99", "--interval", "1s", "--export-queue-size", "64K")) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (receiver.received.size() < 3 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(receiver.received.size()).as("exports before the outage").isGreaterThanOrEqualTo(3);
                Thread.sleep(3000);
                long rssBefore = agent.rssKib();
                receiver.stopGrpc();
                int atOutage = receiver.received.size();
                long maxQueue = 0;
                long maxRss = rssBefore;
                for (int s = 0; s < 60; s++) {
                    Thread.sleep(1000);
                    maxQueue = Math.max(maxQueue, (long) agent.metric("moonwalk_export_queue_bytes"));
                    maxRss = Math.max(maxRss, agent.rssKib());
                }
                assertThat(agent.getResponse("/readyz").statusCode()).as("not ready while exports fail").isEqualTo(503);
                double dropped = agent.metric("moonwalk_export_requests_total{result=\"dropped\"}");
                double failed = agent.metric("moonwalk_export_requests_total{result=\"failed\"}");
                double windows = agent.metric("moonwalk_windows_total{outcome=\"delivered\"}");
                receiver.startGrpc();
                long back = System.nanoTime();
                deadline = back + TimeUnit.SECONDS.toNanos(30);
                while (receiver.received.size() == atOutage && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                long resumeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - back);
                Thread.sleep(3000);
                long rssAfter = agent.rssKib();
                System.out.printf("outage: 60 s down; %.0f windows so far, export dropped %.0f, failed %.0f; "
                                + "max queue %d B (bound 65536); RSS before %d KiB, max during %d KiB, after %d KiB; "
                                + "export resumed %d ms after the receiver came back, %d requests since%n",
                        windows, dropped, failed, maxQueue, rssBefore, maxRss, rssAfter, resumeMillis,
                        receiver.received.size() - atOutage);
                assertThat(receiver.received.size()).as("export resumes").isGreaterThan(atOutage);
                assertThat(dropped + failed).as("lost requests are counted").isGreaterThan(0);
                assertThat(maxQueue).isLessThanOrEqualTo(65536);
                assertThat(maxRss - rssBefore).as("RSS growth during the outage, KiB").isLessThan(64 * 1024);
                assertThat(agent.getResponse("/readyz").statusCode()).as("ready again").isEqualTo(200);
            }
        }
    }

    @Test
    void slowReceiverDoesNotStallSampling() throws Exception {
        try (ProfilesReceiver receiver = new ProfilesReceiver()) {
            receiver.delayMillis = 5000;
            receiver.startGrpc();
            try (RunningAgent agent = RunningAgent.start(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpcEndpoint(),
                    "OTEL_EXPORTER_OTLP_TIMEOUT", "10000"), "--hz", "99", "--interval", "1s")) {
                Thread.sleep(3000);
                double samples0 = agent.metric("moonwalk_samples_total");
                double kernel0 = agent.metric("moonwalk_kernel_samples_total");
                Thread.sleep(20_000);
                double samples = agent.metric("moonwalk_samples_total") - samples0;
                double kernel = agent.metric("moonwalk_kernel_samples_total") - kernel0;
                double lost = agent.metric("moonwalk_samples_lost_total{where=\"kernel_ring_buffer_full\"}");
                double windows = agent.metric("moonwalk_windows_total{outcome=\"delivered\"}");
                int received = receiver.received.size();
                System.out.printf("slow receiver (5 s/call), 20 s: %d requests answered, %.0f windows closed, "
                                + "%.0f samples taken in the kernel, %.0f reached windows, ring-buffer-full %.0f%n",
                        received, windows, kernel, samples, lost);
                // the luajit loop keeps one CPU busy: ~99 samples/s reach the agent although exports crawl
                assertThat(samples).isGreaterThan(20 * 99 * 0.7);
                assertThat(received).isLessThanOrEqualTo(5);
                assertThat(windows).isGreaterThanOrEqualTo(18);
                // what the kernel could not queue is exactly what the agent reports as lost
                assertThat(lost).isZero();
                agent.terminate();
            }
        }
    }
}
