package io.moonwalk.agent.export.otlp;

import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.function.BiFunction;

import static org.assertj.core.api.Assertions.assertThat;

/** The bounded-queue check shared by the gRPC and HTTP tests: receiver down, offers keep coming. */
final class ExporterQueueChecks {

    private ExporterQueueChecks() {
    }

    /** A loopback port nobody listens on (bound, then released): connections are refused at once. */
    static int closedLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void fillsToBound(BiFunction<Long, RetryPolicy, OtlpExporter> factory, ExportProfilesServiceRequest req)
            throws InterruptedException {
        long size = req.getSerializedSize();
        int capacity = 5;
        long max = capacity * size + size / 2;
        // Retries effectively forever so the first request stays in flight for the whole test.
        RetryPolicy stubborn = new RetryPolicy(Duration.ofMillis(5), Duration.ofMillis(20), 2, Integer.MAX_VALUE);
        OtlpExporter e = factory.apply(max, stubborn);

        assertThat(e.offer(req)).isTrue();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (e.queuedRequests() > 0 || e.retries() == 0) {
            assertThat(System.nanoTime()).as("sender took the first request and started retrying").isLessThan(deadline);
            Thread.sleep(5);
        }

        int offers = 40;
        for (int i = 0; i < offers; i++) {
            long t0 = System.nanoTime();
            assertThat(e.offer(req)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("offer never waits").isLessThan(Duration.ofMillis(200));
            assertThat(e.queueBytes()).isLessThanOrEqualTo(max);
        }
        assertThat(e.queuedRequests()).isEqualTo(capacity);
        assertThat(e.queueBytes()).isEqualTo(capacity * size);
        assertThat(e.droppedRequests()).isEqualTo(offers - capacity);
        assertThat(e.sentRequests()).isZero();

        // A request larger than the whole bound is refused on arrival, not allowed to evict everything.
        OtlpExporter tiny = factory.apply(size - 1, stubborn);
        assertThat(tiny.offer(req)).isFalse();
        assertThat(tiny.droppedRequests()).isEqualTo(1);
        assertThat(tiny.queueBytes()).isZero();
        tiny.close();

        e.close();
        assertThat(e.droppedRequests()).isEqualTo(offers - capacity + capacity + 1);
        assertThat(e.queueBytes()).isZero();
    }
}
