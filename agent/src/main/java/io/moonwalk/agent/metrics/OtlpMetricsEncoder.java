package io.moonwalk.agent.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import io.opentelemetry.proto.resource.v1.Resource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Turns the meters of a Micrometer registry into one OTLP {@code ExportMetricsServiceRequest}: one
 * resource (the agent's host), one scope {@value #SCOPE_NAME}, one {@link Metric} per meter name with
 * one data point per tag set.
 *
 * <p>Mapping (the README's metrics section repeats it):
 * <ul>
 *   <li>names are Micrometer's own dotted names ({@code moonwalk.samples}), the OpenTelemetry form:
 *       no {@code _total} suffix, the unit in {@code unit} rather than in the name;</li>
 *   <li>counters and function counters: cumulative monotonic Sum, start time = agent start;</li>
 *   <li>gauges: Gauge; a NaN or infinite reading (a gauge whose object is gone) is left out;</li>
 *   <li>timers and distribution summaries: cumulative Histogram with count and sum, plus bucket
 *       counts when the meter publishes a histogram; a meter publishing only percentiles becomes a
 *       Summary with those quantiles. Micrometer's max is a decaying window maximum, not the maximum
 *       since start that a cumulative histogram's {@code max} means, so it is not sent;</li>
 *   <li>tags: string attributes of the data point.</li>
 * </ul>
 *
 * <p>The Prometheus registry reports bucket counts cumulatively (count of values &le; bound); OTLP
 * wants the count per bucket with an overflow bucket, so they are differenced here.
 */
public final class OtlpMetricsEncoder {

    public static final String SCOPE_NAME = "moonwalk";

    private final Resource resource;
    private final InstrumentationScope scope;
    private final long startEpochNanos;
    private final AtomicLong skippedMeters = new AtomicLong();

    /**
     * @param resourceAttributes attributes of the one resource (host.name, service.name, ...)
     * @param scopeVersion       agent version, reported as the scope version
     * @param startEpochNanos    start of every cumulative series (the agent's start)
     */
    public OtlpMetricsEncoder(Map<String, String> resourceAttributes, String scopeVersion, long startEpochNanos) {
        Objects.requireNonNull(scopeVersion, "scopeVersion");
        Resource.Builder r = Resource.newBuilder();
        resourceAttributes.forEach((k, v) -> r.addAttributes(attribute(k, v)));
        this.resource = r.build();
        this.scope = InstrumentationScope.newBuilder().setName(SCOPE_NAME).setVersion(scopeVersion).build();
        this.startEpochNanos = startEpochNanos;
    }

    /** Meters left out because another meter of a different type already had their name, since construction. */
    public long skippedMeters() {
        return skippedMeters.get();
    }

    /** Reads every meter of {@code registry} now; {@code nowEpochNanos} stamps all data points. */
    public ExportMetricsServiceRequest encode(MeterRegistry registry, long nowEpochNanos) {
        Map<String, Metric.Builder> byName = new LinkedHashMap<>();
        for (Meter meter : registry.getMeters()) {
            add(byName, meter, nowEpochNanos);
        }
        ScopeMetrics.Builder sm = ScopeMetrics.newBuilder().setScope(scope);
        for (Metric.Builder m : byName.values()) {
            if (dataPoints(m) > 0) {
                sm.addMetrics(m);
            }
        }
        return ExportMetricsServiceRequest.newBuilder()
                .addResourceMetrics(ResourceMetrics.newBuilder().setResource(resource).addScopeMetrics(sm))
                .build();
    }

    private void add(Map<String, Metric.Builder> byName, Meter meter, long now) {
        Meter.Id id = meter.getId();
        List<KeyValue> attrs = attributes(id.getTags());
        switch (meter) {
            case TimeGauge g -> gauge(metric(byName, id, "s", Metric.DataCase.GAUGE), attrs, g.value(TimeUnit.SECONDS), now);
            case Gauge g -> gauge(metric(byName, id, unit(id), Metric.DataCase.GAUGE), attrs, g.value(), now);
            case Counter c -> sum(metric(byName, id, unit(id), Metric.DataCase.SUM), attrs, c.count(), now);
            case FunctionCounter c -> sum(metric(byName, id, unit(id), Metric.DataCase.SUM), attrs, c.count(), now);
            case Timer t -> distribution(byName, id, "s", attrs, t.takeSnapshot(), TimeUnit.SECONDS, now);
            case DistributionSummary d -> distribution(byName, id, unit(id), attrs, d.takeSnapshot(), null, now);
            case FunctionTimer t -> {
                Metric.Builder m = metric(byName, id, "s", Metric.DataCase.HISTOGRAM);
                if (m != null) {
                    m.getHistogramBuilder().addDataPoints(HistogramDataPoint.newBuilder().addAllAttributes(attrs)
                            .setStartTimeUnixNano(startEpochNanos).setTimeUnixNano(now)
                            .setCount((long) t.count()).setSum(t.totalTime(TimeUnit.SECONDS)));
                }
            }
            case LongTaskTimer t -> {
                gauge(metric(byName, id.withName(id.getName() + ".active"), "", Metric.DataCase.GAUGE), attrs,
                        t.activeTasks(), now);
                gauge(metric(byName, id.withName(id.getName() + ".duration"), "s", Metric.DataCase.GAUGE), attrs,
                        t.duration(TimeUnit.SECONDS), now);
            }
            default -> {
                // A custom meter: each measurement is a reading at this moment, told apart by its statistic.
                Metric.Builder m = metric(byName, id, unit(id), Metric.DataCase.GAUGE);
                for (Measurement x : meter.measure()) {
                    List<KeyValue> a = new ArrayList<>(attrs);
                    a.add(attribute("statistic", x.getStatistic().getTagValueRepresentation()));
                    gauge(m, a, x.getValue(), now);
                }
            }
        }
    }

    private void distribution(Map<String, Metric.Builder> byName, Meter.Id id, String unit, List<KeyValue> attrs,
                              HistogramSnapshot s, TimeUnit timeUnit, long now) {
        CountAtBucket[] buckets = s.histogramCounts();
        ValueAtPercentile[] percentiles = s.percentileValues();
        double total = timeUnit == null ? s.total() : s.total(timeUnit);
        if (buckets.length == 0 && percentiles.length > 0) {
            Metric.Builder m = metric(byName, id, unit, Metric.DataCase.SUMMARY);
            if (m == null) {
                return;
            }
            SummaryDataPoint.Builder p = SummaryDataPoint.newBuilder().addAllAttributes(attrs)
                    .setStartTimeUnixNano(startEpochNanos).setTimeUnixNano(now).setCount(s.count()).setSum(total);
            for (ValueAtPercentile v : percentiles) {
                p.addQuantileValues(SummaryDataPoint.ValueAtQuantile.newBuilder().setQuantile(v.percentile())
                        .setValue(timeUnit == null ? v.value() : v.value(timeUnit)));
            }
            m.getSummaryBuilder().addDataPoints(p);
            return;
        }
        Metric.Builder m = metric(byName, id, unit, Metric.DataCase.HISTOGRAM);
        if (m == null) {
            return;
        }
        HistogramDataPoint.Builder p = HistogramDataPoint.newBuilder().addAllAttributes(attrs)
                .setStartTimeUnixNano(startEpochNanos).setTimeUnixNano(now).setCount(s.count()).setSum(total);
        if (buckets.length > 0) {
            double previous = 0;
            for (CountAtBucket b : buckets) {
                double bound = timeUnit == null ? b.bucket() : b.bucket(timeUnit);
                if (Double.isInfinite(bound)) {
                    break;  // the overflow bucket is implied by explicit_bounds + 1
                }
                p.addExplicitBounds(bound);
                p.addBucketCounts((long) Math.max(0, b.count() - previous));
                previous = b.count();
            }
            p.addBucketCounts((long) Math.max(0, s.count() - previous));
        }
        m.getHistogramBuilder().addDataPoints(p);
    }

    private static void gauge(Metric.Builder m, List<KeyValue> attrs, double value, long now) {
        if (m == null || !Double.isFinite(value)) {
            return;
        }
        m.getGaugeBuilder().addDataPoints(NumberDataPoint.newBuilder().addAllAttributes(attrs)
                .setTimeUnixNano(now).setAsDouble(value));
    }

    private void sum(Metric.Builder m, List<KeyValue> attrs, double value, long now) {
        if (m == null || !Double.isFinite(value)) {
            return;
        }
        m.getSumBuilder().addDataPoints(NumberDataPoint.newBuilder().addAllAttributes(attrs)
                .setStartTimeUnixNano(startEpochNanos).setTimeUnixNano(now).setAsDouble(value));
    }

    /** The metric of this name, created with {@code type} on first use; null if the name has another type. */
    private Metric.Builder metric(Map<String, Metric.Builder> byName, Meter.Id id, String unit, Metric.DataCase type) {
        Metric.Builder m = byName.get(id.getName());
        if (m == null) {
            m = Metric.newBuilder().setName(id.getName()).setUnit(unit);
            if (id.getDescription() != null) {
                m.setDescription(id.getDescription());
            }
            switch (type) {
                case SUM -> m.getSumBuilder().setIsMonotonic(true)
                        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
                case HISTOGRAM -> m.getHistogramBuilder()
                        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
                case SUMMARY -> m.getSummaryBuilder();
                default -> m.getGaugeBuilder();
            }
            byName.put(id.getName(), m);
            return m;
        }
        if (m.getDataCase() != type) {
            skippedMeters.incrementAndGet();
            return null;
        }
        return m;
    }

    private static int dataPoints(Metric.Builder m) {
        return switch (m.getDataCase()) {
            case GAUGE -> m.getGauge().getDataPointsCount();
            case SUM -> m.getSum().getDataPointsCount();
            case HISTOGRAM -> m.getHistogram().getDataPointsCount();
            case SUMMARY -> m.getSummary().getDataPointsCount();
            default -> 0;
        };
    }

    /** UCUM forms of Micrometer's base units (the OpenTelemetry convention); other units pass through. */
    static String unit(Meter.Id id) {
        String u = id.getBaseUnit();
        if (u == null) {
            return "";
        }
        return switch (u) {
            case "bytes" -> "By";
            case "seconds" -> "s";
            case "milliseconds" -> "ms";
            case "percent" -> "%";
            default -> u;
        };
    }

    private static List<KeyValue> attributes(List<Tag> tags) {
        List<KeyValue> out = new ArrayList<>(tags.size());
        for (Tag t : tags) {
            out.add(attribute(t.getKey(), t.getValue()));
        }
        return out;
    }

    private static KeyValue attribute(String key, String value) {
        return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
    }
}
