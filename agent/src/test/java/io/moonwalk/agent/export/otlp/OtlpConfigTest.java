package io.moonwalk.agent.export.otlp;

import org.junit.jupiter.api.Tag;
import io.moonwalk.agent.export.otlp.OtlpConfig.Compression;
import io.moonwalk.agent.export.otlp.OtlpConfig.Protocol;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("pure")
class OtlpConfigTest {

    @Test
    void defaultsAreGrpcOnLocalhost() {
        OtlpConfig c = OtlpConfig.fromEnvironment(Map.of());
        assertThat(c.protocol()).isEqualTo(Protocol.GRPC);
        assertThat(c.endpoint()).isEqualTo(URI.create("http://localhost:4317"));
        assertThat(c.compression()).isEqualTo(Compression.NONE);
        assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.headers()).isEmpty();
        assertThat(c.tls()).isFalse();
        assertThat(c.certificate()).isNull();
    }

    @Test
    void httpDefaultEndpointHasTheSignalPath() {
        OtlpConfig c = OtlpConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"));
        assertThat(c.endpoint()).isEqualTo(URI.create("http://localhost:4318/v1development/profiles"));
    }

    @Test
    void genericHttpEndpointGetsTheSignalPathAppendedSignalSpecificIsUsedAsIs() {
        assertThat(OtlpConfig.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                "OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example:4318/otlp/")).endpoint())
                .isEqualTo(URI.create("https://collector.example:4318/otlp/v1development/profiles"));
        assertThat(OtlpConfig.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:1",
                "OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "http://c:9999/custom/path")).endpoint())
                .isEqualTo(URI.create("http://c:9999/custom/path"));
    }

    @Test
    void signalSpecificSettingsWin() {
        OtlpConfig c = OtlpConfig.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317",
                "OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "https://profiles:4317",
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                "OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL", "grpc",
                "OTEL_EXPORTER_OTLP_COMPRESSION", "none",
                "OTEL_EXPORTER_OTLP_PROFILES_COMPRESSION", "GZIP",
                "OTEL_EXPORTER_OTLP_TIMEOUT", "1000",
                "OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT", "2500",
                "OTEL_EXPORTER_OTLP_HEADERS", "a=1",
                "OTEL_EXPORTER_OTLP_PROFILES_HEADERS", "b=2"));
        assertThat(c.protocol()).isEqualTo(Protocol.GRPC);
        assertThat(c.endpoint()).isEqualTo(URI.create("https://profiles:4317"));
        assertThat(c.tls()).isTrue();
        assertThat(c.compression()).isEqualTo(Compression.GZIP);
        assertThat(c.timeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(c.headers()).containsExactly(Map.entry("b", "2"));
    }

    @Test
    void grpcEndpointGetsADefaultPortAndRejectsPaths() {
        assertThat(OtlpConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector")).endpoint())
                .isEqualTo(URI.create("https://collector:443"));
        assertThat(OtlpConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://[::1]:4317/")).endpoint())
                .isEqualTo(URI.create("http://[::1]:4317"));
        assertThatThrownBy(() -> OtlpConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317/v1/x")))
                .hasMessageContaining("OTEL_EXPORTER_OTLP_ENDPOINT").hasMessageContaining("without a path");
    }

    @Test
    void headersAndResourceAttributesArePercentDecoded() {
        OtlpConfig c = OtlpConfig.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_HEADERS", " Authorization = Bearer%20abc%3D%3D , x-tenant=a+b,,",
                "OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,k8s.node.name=node%2C1,team=perf",
                "OTEL_SERVICE_NAME", "openresty"));
        assertThat(c.headers()).containsExactly(Map.entry("Authorization", "Bearer abc=="), Map.entry("x-tenant", "a+b"));
        assertThat(c.resourceAttributes()).containsExactly(Map.entry("service.name", "openresty"),
                Map.entry("k8s.node.name", "node,1"), Map.entry("team", "perf"));
    }

    @Test
    void certificatesArePaths() {
        OtlpConfig c = OtlpConfig.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem",
                "OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY", "/etc/key.pem",
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/etc/cert.pem"));
        assertThat(c.certificate()).isEqualTo(Path.of("/etc/ca.pem"));
        assertThat(c.clientKey()).isEqualTo(Path.of("/etc/key.pem"));
        assertThat(c.clientCertificate()).isEqualTo(Path.of("/etc/cert.pem"));
    }

    @Test
    void invalidValuesNameTheVariable() {
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "udp"), "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc or http/protobuf");
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL", "http/json"),
                "OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL", "not supported");
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"), "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip or none");
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"), "OTEL_EXPORTER_OTLP_TIMEOUT", "milliseconds");
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT", "-5"), "OTEL_EXPORTER_OTLP_PROFILES_TIMEOUT", "positive");
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"), "OTEL_EXPORTER_OTLP_ENDPOINT", "scheme");
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "http://bad host/"),
                "OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "not a URL");
        assertInvalid(Map.of("OTEL_RESOURCE_ATTRIBUTES", "a=1,broken"), "OTEL_RESOURCE_ATTRIBUTES", "entry 2 has no '='");
        assertInvalid(Map.of("OTEL_RESOURCE_ATTRIBUTES", "=x"), "OTEL_RESOURCE_ATTRIBUTES", "empty key");
        assertInvalid(Map.of("OTEL_RESOURCE_ATTRIBUTES", "a=%zz"), "OTEL_RESOURCE_ATTRIBUTES", "percent-encoding");
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/k.pem"), "OTEL_EXPORTER_OTLP_CLIENT_KEY", "together");
        assertInvalid(Map.of("OTEL_EXPORTER_OTLP_HEADERS", "bad name=1"), "OTEL_EXPORTER_OTLP_HEADERS", "header name");
    }

    @Test
    void headerErrorsNeverEchoTheSecret() {
        assertThatThrownBy(() -> OtlpConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_HEADERS", "authorization=s3cr3t,junk")))
                .hasMessageContaining("OTEL_EXPORTER_OTLP_HEADERS")
                .hasMessageNotContaining("s3cr3t");
    }

    private static void assertInvalid(Map<String, String> env, String variable, String reason) {
        assertThatThrownBy(() -> OtlpConfig.fromEnvironment(env))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(variable)
                .hasMessageContaining(reason);
    }
}
