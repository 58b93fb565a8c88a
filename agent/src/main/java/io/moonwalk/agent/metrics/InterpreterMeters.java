package io.moonwalk.agent.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.moonwalk.interpreter.InterpreterStats;
import io.moonwalk.interpreter.InterpreterStats.Measurement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The interpreter plugins' meters, registered from their stats snapshots: one meter per distinct (name, tags) a
 * snapshot reports, reading the latest value at scrape time. A series that leaves the snapshots (a process or VM
 * that is gone) loses its meter, so the series count is bounded by what the plugins report.
 */
final class InterpreterMeters {
    private record Series(String name, Map<String, String> tags) {
    }

    private final MeterRegistry registry;
    /** The latest value per series; the meters read it. */
    private final Map<Series, Double> values = new ConcurrentHashMap<>();
    private final Map<Series, Meter> meters = new HashMap<>(); // guarded by this

    InterpreterMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Reconciles the meters with the plugins' latest snapshots. */
    synchronized void update(List<InterpreterStats> snapshots) {
        Set<Series> live = new HashSet<>();
        for (InterpreterStats s : snapshots) {
            for (Measurement m : s.values()) {
                Series key = new Series(m.name(), m.tags());
                live.add(key);
                values.put(key, m.value());
                if (!meters.containsKey(key)) {
                    meters.put(key, register(key, m));
                }
            }
        }
        for (var it = meters.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!live.contains(e.getKey())) {
                registry.remove(e.getValue());
                values.remove(e.getKey());
                it.remove();
            }
        }
    }

    /** Series with meters. */
    synchronized int registered() {
        return meters.size();
    }

    private Meter register(Series key, Measurement m) {
        Tags tags = Tags.empty();
        for (var t : m.tags().entrySet()) {
            tags = tags.and(t.getKey(), t.getValue());
        }
        return switch (m.type()) {
            case COUNTER -> FunctionCounter.builder(m.name(), values, v -> v.getOrDefault(key, 0.0)).tags(tags)
                    .description(m.description()).register(registry);
            case GAUGE -> Gauge.builder(m.name(), values, v -> v.getOrDefault(key, Double.NaN)).tags(tags)
                    .description(m.description()).strongReference(true).register(registry);
        };
    }
}
