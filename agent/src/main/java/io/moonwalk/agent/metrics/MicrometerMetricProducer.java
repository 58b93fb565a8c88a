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
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.Data;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.GaugeData;
import io.opentelemetry.sdk.metrics.data.HistogramData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.metrics.data.SummaryData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.metrics.data.ValueAtQuantile;
import io.opentelemetry.sdk.metrics.export.MetricProducer;
import io.opentelemetry.sdk.resources.Resource;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bridge from the agent's Micrometer meters to the OpenTelemetry SDK: every meter is defined
 * once, in Micrometer (the Prometheus endpoint scrapes the same registry), and the SDK's metric
 * reader pulls them through this producer at each collection. The SDK then encodes and sends them
 * (OTLP exporter). OpenTelemetry's own Micrometer bridge library is not available to this build.
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
 * <p>Micrometer reports bucket counts cumulatively (count of values &le; bound); OTLP wants the
 * count per bucket with an overflow bucket, so they are differenced here.
 */
public final class MicrometerMetricProducer implements MetricProducer {

    public static final String SCOPE_NAME = "moonwalk";

    private final MeterRegistry registry;
    private final InstrumentationScopeInfo scope;
    private final long startEpochNanos;
    private final Clock clock;
    private final AtomicLong skippedMeters = new AtomicLong();

    /**
     * @param scopeVersion    agent version, reported as the scope version
     * @param startEpochNanos start of every cumulative series (the agent's start)
     */
    public MicrometerMetricProducer(MeterRegistry registry, String scopeVersion, long startEpochNanos, Clock clock) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.scope = InstrumentationScopeInfo.builder(SCOPE_NAME)
                .setVersion(Objects.requireNonNull(scopeVersion, "scopeVersion")).build();
        this.startEpochNanos = startEpochNanos;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Meters left out because another meter of a different type already had their name, since construction. */
    public long skippedMeters() {
        return skippedMeters.get();
    }

    @Override
    public Collection<MetricData> produce(Resource resource) {
        Instant now = clock.instant();
        long nowNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        Map<String, Series> byName = new LinkedHashMap<>();
        for (Meter meter : registry.getMeters()) {
            add(byName, meter, nowNanos);
        }
        List<MetricData> out = new ArrayList<>(byName.size());
        for (Series s : byName.values()) {
            if (!s.points.isEmpty()) {
                out.add(s.toMetric(resource, scope));
            }
        }
        return out;
    }

    private void add(Map<String, Series> byName, Meter meter, long now) {
        Meter.Id id = meter.getId();
        Attributes attrs = attributes(id.getTags());
        switch (meter) {
            case TimeGauge g -> gauge(series(byName, id, "s", MetricDataType.DOUBLE_GAUGE), attrs,
                    g.value(TimeUnit.SECONDS), now);
            case Gauge g -> gauge(series(byName, id, unit(id), MetricDataType.DOUBLE_GAUGE), attrs, g.value(), now);
            case Counter c -> sum(series(byName, id, unit(id), MetricDataType.DOUBLE_SUM), attrs, c.count(), now);
            case FunctionCounter c -> sum(series(byName, id, unit(id), MetricDataType.DOUBLE_SUM), attrs, c.count(), now);
            case Timer t -> distribution(byName, id, "s", attrs, t.takeSnapshot(), TimeUnit.SECONDS, now);
            case DistributionSummary d -> distribution(byName, id, unit(id), attrs, d.takeSnapshot(), null, now);
            case FunctionTimer t -> {
                Series s = series(byName, id, "s", MetricDataType.HISTOGRAM);
                if (s != null) {
                    s.points.add(HistogramPointData.create(startEpochNanos, now, attrs, t.totalTime(TimeUnit.SECONDS),
                            false, 0, false, 0, List.of(), List.of((long) t.count())));
                }
            }
            case LongTaskTimer t -> {
                gauge(series(byName, id.withName(id.getName() + ".active"), "", MetricDataType.DOUBLE_GAUGE), attrs,
                        t.activeTasks(), now);
                gauge(series(byName, id.withName(id.getName() + ".duration"), "s", MetricDataType.DOUBLE_GAUGE),
                        attrs, t.duration(TimeUnit.SECONDS), now);
            }
            default -> {
                // A custom meter: each measurement is a reading at this moment, told apart by its statistic.
                Series s = series(byName, id, unit(id), MetricDataType.DOUBLE_GAUGE);
                for (Measurement x : meter.measure()) {
                    gauge(s, attrs.toBuilder().put("statistic", x.getStatistic().getTagValueRepresentation()).build(),
                            x.getValue(), now);
                }
            }
        }
    }

    private void distribution(Map<String, Series> byName, Meter.Id id, String unit, Attributes attrs,
                              HistogramSnapshot s, TimeUnit timeUnit, long now) {
        CountAtBucket[] buckets = s.histogramCounts();
        ValueAtPercentile[] percentiles = s.percentileValues();
        double total = timeUnit == null ? s.total() : s.total(timeUnit);
        if (buckets.length == 0 && percentiles.length > 0) {
            Series m = series(byName, id, unit, MetricDataType.SUMMARY);
            if (m == null) {
                return;
            }
            List<ValueAtQuantile> quantiles = new ArrayList<>(percentiles.length);
            for (ValueAtPercentile v : percentiles) {
                quantiles.add(ValueAtQuantile.create(v.percentile(), timeUnit == null ? v.value() : v.value(timeUnit)));
            }
            m.points.add(SummaryPointData.create(startEpochNanos, now, attrs, s.count(), total, quantiles));
            return;
        }
        Series m = series(byName, id, unit, MetricDataType.HISTOGRAM);
        if (m == null) {
            return;
        }
        List<Double> bounds = new ArrayList<>(buckets.length);
        List<Long> counts = new ArrayList<>(buckets.length + 1);
        double previous = 0;
        for (CountAtBucket b : buckets) {
            double bound = timeUnit == null ? b.bucket() : b.bucket(timeUnit);
            if (Double.isInfinite(bound)) {
                break;  // the overflow bucket is implied by explicit_bounds + 1
            }
            bounds.add(bound);
            counts.add((long) Math.max(0, b.count() - previous));
            previous = b.count();
        }
        counts.add((long) Math.max(0, s.count() - previous));
        m.points.add(HistogramPointData.create(startEpochNanos, now, attrs, total, false, 0, false, 0, bounds, counts));
    }

    private static void gauge(Series s, Attributes attrs, double value, long now) {
        if (s == null || !Double.isFinite(value)) {
            return;
        }
        s.points.add(DoublePointData.create(0, now, attrs, value, List.of()));
    }

    private void sum(Series s, Attributes attrs, double value, long now) {
        if (s == null || !Double.isFinite(value)) {
            return;
        }
        s.points.add(DoublePointData.create(startEpochNanos, now, attrs, value, List.of()));
    }

    /** The series of this name, created with {@code type} on first use; null if the name has another type. */
    private Series series(Map<String, Series> byName, Meter.Id id, String unit, MetricDataType type) {
        Series s = byName.get(id.getName());
        if (s == null) {
            s = new Series(id.getName(), id.getDescription() == null ? "" : id.getDescription(), unit, type);
            byName.put(id.getName(), s);
            return s;
        }
        if (s.type != type) {
            skippedMeters.incrementAndGet();
            return null;
        }
        return s;
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

    private static Attributes attributes(List<Tag> tags) {
        AttributesBuilder b = Attributes.builder();
        for (Tag t : tags) {
            b.put(t.getKey(), t.getValue());
        }
        return b.build();
    }

    /** The data points gathered for one metric name during one collection. */
    private static final class Series {
        final String name;
        final String description;
        final String unit;
        final MetricDataType type;
        final List<PointData> points = new ArrayList<>();

        Series(String name, String description, String unit, MetricDataType type) {
            this.name = name;
            this.description = description;
            this.unit = unit;
            this.type = type;
        }

        @SuppressWarnings("unchecked")
        MetricData toMetric(Resource resource, InstrumentationScopeInfo scope) {
            Data<?> data = switch (type) {
                case DOUBLE_SUM -> SumData.createDoubleSumData(true, AggregationTemporality.CUMULATIVE,
                        (List<DoublePointData>) (List<?>) points);
                case HISTOGRAM -> HistogramData.create(AggregationTemporality.CUMULATIVE,
                        (List<HistogramPointData>) (List<?>) points);
                case SUMMARY -> SummaryData.create((List<SummaryPointData>) (List<?>) points);
                default -> GaugeData.createDoubleGaugeData((List<DoublePointData>) (List<?>) points);
            };
            return new BridgedMetric(resource, scope, name, description, unit, type, data);
        }
    }

    /** One metric as the SDK's exporters read it (the SDK offers no public factory for MetricData). */
    private record BridgedMetric(Resource getResource, InstrumentationScopeInfo getInstrumentationScopeInfo,
                                 String getName, String getDescription, String getUnit, MetricDataType getType,
                                 Data<?> getData) implements MetricData {
    }
}
