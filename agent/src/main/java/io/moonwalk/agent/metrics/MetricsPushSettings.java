package io.moonwalk.agent.metrics;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * Whether and how often the agent pushes its metrics over OTLP, from {@code --otlp-metrics} /
 * {@code --metrics-interval} and OpenTelemetry's {@code OTEL_METRICS_EXPORTER} /
 * {@code OTEL_METRIC_EXPORT_INTERVAL}, with the agent's usual precedence: flag or
 * {@code MOONWALK_*} &gt; {@code OTEL_*} &gt; config file &gt; default (on when an OTLP endpoint is
 * configured; every 30 s).
 *
 * @param enabled  push at all
 * @param interval time between pushes
 */
public record MetricsPushSettings(boolean enabled, Duration interval) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    static final Duration MIN_INTERVAL = Duration.ofSeconds(1);

    /** A value of an agent option and whether it came from the config file (the lowest level). */
    public record Option<T>(T value, boolean fromFile) {
        boolean high() {
            return value != null && !fromFile;
        }

        boolean low() {
            return value != null && fromFile;
        }
    }

    /**
     * @param mode               {@code --otlp-metrics} ({@code on}/{@code off}) or null when not set anywhere
     * @param interval           {@code --metrics-interval} or null when not set anywhere
     * @param env                the process environment
     * @param endpointConfigured whether any OTLP endpoint variable or flag is set
     * @throws IllegalArgumentException naming the setting when a value is invalid
     */
    public static MetricsPushSettings resolve(Option<String> mode, Option<Duration> interval, Map<String, String> env,
                                              boolean endpointConfigured) {
        String exporter = env.get("OTEL_METRICS_EXPORTER");
        boolean enabled;
        if (mode.high()) {
            enabled = parseMode(mode.value());
        } else if (exporter != null && !exporter.isBlank()) {
            enabled = parseExporter(exporter);
        } else if (mode.low()) {
            enabled = parseMode(mode.value());
        } else {
            enabled = endpointConfigured;
        }

        String envInterval = env.get("OTEL_METRIC_EXPORT_INTERVAL");
        Duration every;
        if (interval.high()) {
            every = interval.value();
        } else if (envInterval != null && !envInterval.isBlank()) {
            every = parseMillis(envInterval);
        } else if (interval.low()) {
            every = interval.value();
        } else {
            every = DEFAULT_INTERVAL;
        }
        if (every.compareTo(MIN_INTERVAL) < 0) {
            throw new IllegalArgumentException("metrics interval " + every.toMillis()
                    + " ms (--metrics-interval or OTEL_METRIC_EXPORT_INTERVAL) is too short: use 1s or more");
        }
        return new MetricsPushSettings(enabled, every);
    }

    private static boolean parseMode(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("--otlp-metrics " + v + " is not one of on, off");
        };
    }

    /**
     * The OpenTelemetry list form ({@code otlp}, {@code none}, {@code otlp,prometheus}): push when it
     * names {@code otlp}. {@code prometheus} alone turns the push off; the scrape endpoint is always served.
     */
    private static boolean parseExporter(String v) {
        boolean otlp = false;
        for (String item : v.split(",")) {
            String s = item.trim().toLowerCase(Locale.ROOT);
            switch (s) {
                case "otlp" -> otlp = true;
                case "none", "prometheus", "" -> { }
                default -> throw new IllegalArgumentException("OTEL_METRICS_EXPORTER='" + v + "' is invalid: '" + s
                        + "' is not supported; use otlp, prometheus or none");
            }
        }
        return otlp;
    }

    private static Duration parseMillis(String v) {
        long ms;
        try {
            ms = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("OTEL_METRIC_EXPORT_INTERVAL='" + v
                    + "' is invalid: expected a whole number of milliseconds, e.g. 30000");
        }
        if (ms <= 0) {
            throw new IllegalArgumentException("OTEL_METRIC_EXPORT_INTERVAL='" + v + "' is invalid: must be positive");
        }
        return Duration.ofMillis(ms);
    }
}
