package io.moonwalk.agent.metrics;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Stage;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InternalTelemetryVersion;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.MetricProducer;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Pushes the agent's metrics over OTLP with the OpenTelemetry SDK: a {@link PeriodicMetricReader}
 * collects the Micrometer meters through {@link MicrometerMetricProducer} every interval on the
 * SDK's own thread (the sampling loop never waits on it) and hands them to the SDK's OTLP exporter.
 * One attempt per interval, no retry and no queue: series are cumulative, so a failed push only
 * costs resolution. Around the SDK's exporter this class counts pushes by result, times them and
 * logs once per outage.
 */
public final class OtlpMetricsExporter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OtlpMetricsExporter.class.getName());

    private final String endpoint;
    private final Duration timeout;
    private final SdkExportLog sdkLog = SdkExportLog.install();
    private final PeriodicMetricReader reader;
    private final SdkMeterProvider provider;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Timer duration;
    private volatile boolean failing;
    private volatile boolean closing;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final MetricProducer producer;
    private final Resource resource;
    private final Measured measured;
    private volatile String lastError;

    /**
     * Builds the SDK pipeline; the first push goes out one interval from now.
     *
     * @param registry           the meters to push; the exporter adds its own {@code moonwalk.metrics.export.*}
     *                           meters to it
     * @param exporter           the SDK's OTLP metric exporter ({@link SdkMetricExporters#create})
     * @param endpoint           where {@code exporter} delivers, for log lines
     * @param timeout            the exporter's timeout, which bounds {@link #pushNow()}
     * @param resourceAttributes attributes of the one resource (host.name, service.name, ...)
     */
    public OtlpMetricsExporter(MeterRegistry registry, MetricProducer producer, MetricExporter exporter,
                               Duration interval, String endpoint, Duration timeout,
                               Map<String, String> resourceAttributes) {
        Objects.requireNonNull(registry, "registry");
        this.producer = Objects.requireNonNull(producer, "producer");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (interval.toMillis() < 10) {
            throw new IllegalArgumentException("metrics interval " + interval.toMillis() + " ms is below 10 ms");
        }
        FunctionCounter.builder("moonwalk.metrics.export.requests", sent, AtomicLong::get).tag("result", "sent")
                .description("OTLP metrics pushes by result").register(registry);
        FunctionCounter.builder("moonwalk.metrics.export.requests", failed, AtomicLong::get).tag("result", "failed")
                .description("OTLP metrics pushes by result").register(registry);
        duration = Timer.builder("moonwalk.metrics.export.duration")
                .description("duration of one OTLP metrics push").register(registry);
        AttributesBuilder resource = Attributes.builder();
        resourceAttributes.forEach(resource::put);
        this.resource = Resource.create(resource.build());
        this.measured = new Measured(exporter);
        // LEGACY: the reader records no otel.sdk.* metrics of its own into this provider (SDK 1.68
        // otherwise adds otel.sdk.metric_reader.collection.duration, in a second scope, from the
        // second push on); the moonwalk.metrics.export.* meters above say how pushes go
        this.reader = PeriodicMetricReader.builder(measured).setInterval(interval)
                .setInternalTelemetryVersion(InternalTelemetryVersion.LEGACY).build();
        this.provider = SdkMeterProvider.builder()
                .setResource(this.resource)
                .registerMetricReader(reader)
                .registerMetricProducer(producer)
                .build();
    }

    /**
     * Collects every meter and pushes one request now, on the calling thread (waits at most the
     * exporter's timeout and a little more).
     *
     * @return true if the receiver accepted it
     */
    public boolean pushNow() {
        return reader.forceFlush().join(timeout.toMillis() + 2_000, TimeUnit.MILLISECONDS).isSuccess();
    }

    /** The last failure's message, or null if no push has failed. */
    public String lastError() {
        return lastError;
    }

    /**
     * Stops the periodic push, lets a push under way finish, pushes the final values once on this
     * thread (bounded by the exporter's timeout) unless {@code finalPush} is false, and shuts the SDK
     * down. The final push does not go through the reader: the SDK's PeriodicMetricReader (1.68)
     * exports on its own worker thread, so a push made through it cannot be told apart from a
     * periodic one, and its shutdown push is bounded by a fixed 5 s of its own. Once closing, every
     * export the reader makes is skipped and this thread collects from the producer and exports.
     */
    public void close(boolean finalPush) {
        closing = true;
        // an export that incremented inFlight before this read is waited for; one that increments
        // later sees closing (both are volatile: sequentially consistent) and sends nothing
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        if (finalPush) {
            try {
                measured.send(producer.produce(resource))
                        .join(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "final OTLP metrics push to " + endpoint + " failed: " + e);
            }
        }
        provider.shutdown().join(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    }

    /** {@link #close(boolean)} with a final push unless the receiver failed the last one (no wait on a dead peer). */
    @Override
    public void close() {
        close(!failing);
    }

    /** Counts, times and logs each push the SDK's exporter makes; skips the final one when asked to. */
    private final class Measured implements MetricExporter {
        private final MetricExporter delegate;
        private final AtomicLong pushes = new AtomicLong();

        Measured(MetricExporter delegate) {
            this.delegate = Objects.requireNonNull(delegate, "exporter");
        }

        @Override
        public CompletableResultCode export(Collection<MetricData> metrics) {
            inFlight.incrementAndGet();
            if (closing) {
                inFlight.decrementAndGet();
                return CompletableResultCode.ofSuccess();  // closing: only close() itself pushes; nothing sent, nothing failed
            }
            CompletableResultCode result;
            try {
                Faults.inject(Stage.METRICS_PUSH, pushes.incrementAndGet());
                result = send(metrics);
            } catch (RuntimeException | Error e) {
                // a meter or the exporter failing must not end the pushes: counted, the next interval tries again
                inFlight.decrementAndGet();
                failed.incrementAndGet();
                Faults.contained(Stage.METRICS_PUSH, "OTLP metrics push " + pushes.get(), e);
                return CompletableResultCode.ofFailure();
            }
            result.whenComplete(inFlight::decrementAndGet);
            return result;
        }

        /** One push, counted, timed and logged. */
        CompletableResultCode send(Collection<MetricData> metrics) {
            long t0 = System.nanoTime();
            sdkLog.clear();
            CompletableResultCode result = delegate.export(metrics);
            result.whenComplete(() -> done(result, System.nanoTime() - t0));
            return result;
        }

        private void done(CompletableResultCode result, long nanos) {
            duration.record(nanos, TimeUnit.NANOSECONDS);
            if (result.isSuccess()) {
                sent.incrementAndGet();
                if (failing) {
                    failing = false;
                    LOG.log(System.Logger.Level.INFO, "OTLP metrics push to " + endpoint + " works again");
                }
                return;
            }
            failed.incrementAndGet();
            String why = sdkLog.last();
            if (why == null) {
                Throwable t = result.getFailureThrowable();
                why = t == null ? "no reason given" : String.valueOf(t.getCause() != null ? t.getCause() : t);
            }
            lastError = why;
            if (!failing) {
                failing = true;
                LOG.log(System.Logger.Level.WARNING, "OTLP metrics push to " + endpoint + " failed: " + why
                        + " (counted in moonwalk_metrics_export_requests_total{result=\"failed\"}; "
                        + "logged again only after a success)");
            }
        }

        @Override
        public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
            return delegate.getAggregationTemporality(instrumentType);
        }

        @Override
        public MemoryMode getMemoryMode() {
            return delegate.getMemoryMode();
        }

        @Override
        public CompletableResultCode flush() {
            return delegate.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return delegate.shutdown();
        }
    }
}
