package io.moonwalk.agent.metrics;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.agent.export.otlp.OtlpConfig;
import io.moonwalk.agent.export.otlp.OtlpConfig.Signal;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Enablement, interval and endpoint of the metrics push from flags and the OpenTelemetry variables. */
@Tag("pure")
class MetricsPushSettingsTest {
    private static final MetricsPushSettings.Option<String> NO_MODE = new MetricsPushSettings.Option<>(null, false);
    private static final MetricsPushSettings.Option<Duration> NO_INTERVAL = new MetricsPushSettings.Option<>(null, false);

    @Test
    void onByDefaultExactlyWhenAnEndpointIsConfigured() {
        assertThat(MetricsPushSettings.resolve(NO_MODE, NO_INTERVAL, Map.of(), true))
                .isEqualTo(new MetricsPushSettings(true, Duration.ofSeconds(30)));
        assertThat(MetricsPushSettings.resolve(NO_MODE, NO_INTERVAL, Map.of(), false).enabled()).isFalse();
    }

    @Test
    void flagBeatsOtelVariablesWhichBeatTheConfigFile() {
        Map<String, String> env = Map.of("OTEL_METRICS_EXPORTER", "none", "OTEL_METRIC_EXPORT_INTERVAL", "5000");
        MetricsPushSettings fromFlag = MetricsPushSettings.resolve(new MetricsPushSettings.Option<>("on", false),
                new MetricsPushSettings.Option<>(Duration.ofSeconds(2), false), env, false);
        assertThat(fromFlag).isEqualTo(new MetricsPushSettings(true, Duration.ofSeconds(2)));
        MetricsPushSettings fromFile = MetricsPushSettings.resolve(new MetricsPushSettings.Option<>("on", true),
                new MetricsPushSettings.Option<>(Duration.ofSeconds(2), true), env, true);
        assertThat(fromFile).isEqualTo(new MetricsPushSettings(false, Duration.ofSeconds(5)));
        assertThat(MetricsPushSettings.resolve(NO_MODE, NO_INTERVAL, Map.of("OTEL_METRICS_EXPORTER", "prometheus,otlp"),
                false).enabled()).isTrue();
        assertThat(MetricsPushSettings.resolve(NO_MODE, NO_INTERVAL, Map.of("OTEL_METRICS_EXPORTER", "prometheus"),
                true).enabled()).isFalse();
    }

    @Test
    void invalidValuesNameTheSetting() {
        assertThatThrownBy(() -> MetricsPushSettings.resolve(new MetricsPushSettings.Option<>("yes", false),
                NO_INTERVAL, Map.of(), true)).hasMessageContaining("--otlp-metrics yes");
        assertThatThrownBy(() -> MetricsPushSettings.resolve(NO_MODE, NO_INTERVAL,
                Map.of("OTEL_METRICS_EXPORTER", "console"), true)).hasMessageContaining("OTEL_METRICS_EXPORTER");
        assertThatThrownBy(() -> MetricsPushSettings.resolve(NO_MODE, NO_INTERVAL,
                Map.of("OTEL_METRIC_EXPORT_INTERVAL", "30s"), true)).hasMessageContaining("OTEL_METRIC_EXPORT_INTERVAL");
        assertThatThrownBy(() -> MetricsPushSettings.resolve(NO_MODE, NO_INTERVAL,
                Map.of("OTEL_METRIC_EXPORT_INTERVAL", "200"), true)).hasMessageContaining("too short");
    }

    @Test
    void metricsEndpointFollowsTheOtelRulesAndFallsBackToTheProfilesSettings() {
        assertThat(metrics(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317")).endpoint())
                .isEqualTo(URI.create("http://c:4317"));
        assertThat(metrics(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/base/")).endpoint())
                .isEqualTo(URI.create("http://c:4318/base/v1/metrics"));
        assertThat(metrics(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:1/custom",
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")).endpoint())
                .isEqualTo(URI.create("http://m:1/custom"));
        // --otlp-endpoint is carried as the profiles-specific variable: metrics go to the same collector
        assertThat(metrics(Map.of("OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL", "http/protobuf",
                "OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "https://c:4318/otlp/v1development/profiles")).endpoint())
                .isEqualTo(URI.create("https://c:4318/otlp/v1/metrics"));
        assertThat(metrics(Map.of("OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL", "http/protobuf",
                "OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "http://c:4318/elsewhere")).endpoint())
                .isEqualTo(URI.create("http://c:4318/v1/metrics"));
        assertThat(metrics(Map.of("OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "http://p:4317")).endpoint())
                .isEqualTo(URI.create("http://p:4317"));
        OtlpConfig c = metrics(Map.of("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "a=1", "OTEL_EXPORTER_OTLP_HEADERS", "b=2",
                "OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT", "1234", "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip"));
        assertThat(c.headers()).isEqualTo(Map.of("a", "1"));
        assertThat(c.timeout()).isEqualTo(Duration.ofMillis(1234));
        assertThat(c.compression()).isEqualTo(OtlpConfig.Compression.GZIP);
        assertThat(metrics(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")).endpoint())
                .isEqualTo(URI.create("http://localhost:4318/v1/metrics"));
        // the profiles signal never reads the metrics variables
        assertThat(OtlpConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:1")).endpoint())
                .isEqualTo(URI.create("http://localhost:4317"));
        assertThatThrownBy(() -> metrics(Map.of("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "udp")))
                .hasMessageContaining("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL");
    }

    private static OtlpConfig metrics(Map<String, String> env) {
        return OtlpConfig.fromEnvironment(env, Signal.METRICS);
    }
}
