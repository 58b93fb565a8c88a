package io.moonwalk.agent.metrics;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Heartbeats;
import io.moonwalk.containment.Stage;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.moonwalk.agent.export.otlp.ExportException;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Pushes a registry's meters as OTLP metrics every interval, on a thread of its own: meters are read
 * from atomics the components publish anyway, so the sampling loop never waits on this push or on the
 * network. One attempt per interval and no queue: series are cumulative, so a failed push only costs
 * resolution and memory stays one request. Failures are counted and logged once per outage.
 */
public final class OtlpMetricsExporter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OtlpMetricsExporter.class.getName());

    private final MeterRegistry registry;
    private final OtlpMetricsEncoder encoder;
    private final OtlpMetricsSender sender;
    private final Duration interval;
    private final String endpoint;
    private final Clock clock;
    private final ReentrantLock pushing = new ReentrantLock();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong rejectedPoints = new AtomicLong();
    private final Timer duration;
    private volatile boolean failing;
    private volatile String lastError;

    /**
     * @param registry the meters to push; the exporter adds its own {@code moonwalk.metrics.export.*} meters to it
     * @param endpoint where the sender delivers, for log lines
     */
    public OtlpMetricsExporter(MeterRegistry registry, OtlpMetricsEncoder encoder, OtlpMetricsSender sender,
                               Duration interval, String endpoint, Clock clock) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.sender = Objects.requireNonNull(sender, "sender");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (interval.toMillis() < 10) {
            throw new IllegalArgumentException("metrics interval " + interval.toMillis() + " ms is below 10 ms");
        }
        this.interval = interval;
        FunctionCounter.builder("moonwalk.metrics.export.requests", sent, AtomicLong::get).tag("result", "sent")
                .description("OTLP metrics pushes by result").register(registry);
        FunctionCounter.builder("moonwalk.metrics.export.requests", failed, AtomicLong::get).tag("result", "failed")
                .description("OTLP metrics pushes by result").register(registry);
        FunctionCounter.builder("moonwalk.metrics.export.rejected.points", rejectedPoints, AtomicLong::get)
                .description("data points the receiver rejected in partial_success").register(registry);
        duration = Timer.builder("moonwalk.metrics.export.duration")
                .description("duration of one OTLP metrics push").register(registry);
        this.thread = Thread.ofPlatform().name("moonwalk-otlp-metrics").daemon(true).unstarted(this::run);
    }

    /** Starts the periodic push; the first one goes out one interval from now. */
    public OtlpMetricsExporter start() {
        thread.start();
        return this;
    }

    private void run() {
        Heartbeats.Beat beat = Heartbeats.register(thread.getName(), thread);
        long next = System.nanoTime() + interval.toNanos();
        long pushes = 0;
        while (true) {
            beat.beat();
            try {
                // waits at most one heartbeat at a time, so an idle pusher still shows it is alive
                if (stop.await(Math.min(Heartbeats.BEAT_NANOS, Math.max(0, next - System.nanoTime())),
                        TimeUnit.NANOSECONDS)) {
                    beat.close();
                    return;
                }
            } catch (InterruptedException e) {
                beat.close();
                return;
            }
            if (System.nanoTime() - next < 0) {
                continue;
            }
            try {
                Faults.inject(Stage.METRICS_PUSH, ++pushes);
                pushNow();
            } catch (RuntimeException | Error e) {
                // a meter or the encoder failing must not end the pushes: the next interval tries again
                Faults.contained(Stage.METRICS_PUSH, "OTLP metrics push " + pushes, e);
            }
            // fixed rate, but never a burst of catch-up pushes after a long stall
            next = Math.max(next + interval.toNanos(), System.nanoTime());
        }
    }

    /**
     * Reads every meter and sends one request now, on the calling thread.
     *
     * @return true if the receiver accepted it
     */
    public boolean pushNow() {
        pushing.lock();
        try {
            long t0 = System.nanoTime();
            boolean ok = false;
            try {
                Instant now = clock.instant();
                ExportMetricsServiceRequest request = encoder.encode(registry,
                        now.getEpochSecond() * 1_000_000_000L + now.getNano());
                rejectedPoints.addAndGet(sender.send(request));
                ok = true;
            } catch (ExportException | RuntimeException e) {
                failed.incrementAndGet();
                lastError = e.getMessage();
                if (!failing) {
                    failing = true;
                    LOG.log(System.Logger.Level.WARNING, "OTLP metrics push to " + endpoint + " failed: "
                            + e.getMessage() + " (counted in moonwalk_metrics_export_requests_total{result=\"failed\"}; "
                            + "logged again only after a success)");
                }
            }
            duration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            if (ok) {
                sent.incrementAndGet();
                if (failing) {
                    failing = false;
                    LOG.log(System.Logger.Level.INFO, "OTLP metrics push to " + endpoint + " works again");
                }
            }
            return ok;
        } finally {
            pushing.unlock();
        }
    }

    public long sentRequests() {
        return sent.get();
    }

    public long failedRequests() {
        return failed.get();
    }

    public long rejectedPoints() {
        return rejectedPoints.get();
    }

    /** The last failure's message, or null if no push has failed. */
    public String lastError() {
        return lastError;
    }

    public Duration interval() {
        return interval;
    }

    /** Stops the periodic push, sends the final values once (bounded by the sender's timeout) and closes. */
    public void close(boolean finalPush) {
        stop.countDown();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (finalPush) {
            pushNow();
        }
        sender.close();
    }

    /** {@link #close(boolean)} with a final push unless the receiver failed the last one (no wait on a dead peer). */
    @Override
    public void close() {
        close(!failing);
    }
}
