package io.moonwalk.agent.export.otlp;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how to send one OTLP signal (profiles or metrics), read from the OpenTelemetry standard
 * environment variables.
 *
 * <p>Every {@code OTEL_EXPORTER_OTLP_X} setting has a signal-specific twin
 * ({@code OTEL_EXPORTER_OTLP_PROFILES_X}, {@code OTEL_EXPORTER_OTLP_METRICS_X}) that wins when set.
 * For {@code http/protobuf} the generic endpoint gets the signal path appended, while the
 * signal-specific endpoint is used exactly as given (as the OTLP exporter specification prescribes).
 *
 * <p>Metrics fall back to the profiles settings last ({@code METRICS_X} &gt; {@code X} &gt;
 * {@code PROFILES_X}): the agent's own {@code --otlp-*} flags are carried as profiles settings, and
 * its metrics belong at the same collector unless told otherwise. A profiles HTTP endpoint becomes a
 * metrics one by swapping its {@value #HTTP_SIGNAL_PATH} suffix for {@value #HTTP_METRICS_PATH} (or, for
 * any other path, by putting {@value #HTTP_METRICS_PATH} on its scheme, host and port).
 *
 * <p>The default protocol is {@code grpc}: it is what the OpenTelemetry eBPF profiler and the
 * collector's profiles receiver path use most, and the one transport every profiles-capable
 * collector accepts.
 *
 * @param protocol           transport
 * @param endpoint           for gRPC the {@code scheme://host:port} target; for HTTP the full URL to POST to
 * @param headers            extra request headers (gRPC metadata)
 * @param compression        request body compression
 * @param timeout            deadline of one export attempt
 * @param certificate        PEM file with CA certificates to trust, or null for the JDK/system defaults
 * @param clientKey          PEM PKCS#8 private key for mutual TLS, or null
 * @param clientCertificate  PEM certificate chain for mutual TLS, or null
 * @param resourceAttributes attributes from {@code OTEL_RESOURCE_ATTRIBUTES} and {@code OTEL_SERVICE_NAME}
 */
public record OtlpConfig(Protocol protocol, URI endpoint, Map<String, String> headers, Compression compression,
                         Duration timeout, Path certificate, Path clientKey, Path clientCertificate,
                         Map<String, String> resourceAttributes) {

    /** Path of the profiles signal on an OTLP/HTTP receiver (collector {@code otlphttp}, v1development). */
    public static final String HTTP_SIGNAL_PATH = "/v1development/profiles";
    /** Path of the metrics signal on an OTLP/HTTP receiver. */
    public static final String HTTP_METRICS_PATH = "/v1/metrics";

    /** The telemetry signal a configuration is for: its variable infix and OTLP/HTTP path. */
    public enum Signal {
        PROFILES("PROFILES", HTTP_SIGNAL_PATH), METRICS("METRICS", HTTP_METRICS_PATH);

        private final String infix;
        private final String httpPath;

        Signal(String infix, String httpPath) {
            this.infix = infix;
            this.httpPath = httpPath;
        }

        public String httpPath() {
            return httpPath;
        }

        /** Variable prefixes in precedence order. */
        private String[] prefixes() {
            return this == PROFILES
                    ? new String[] {"OTEL_EXPORTER_OTLP_PROFILES_", "OTEL_EXPORTER_OTLP_"}
                    : new String[] {"OTEL_EXPORTER_OTLP_METRICS_", "OTEL_EXPORTER_OTLP_", "OTEL_EXPORTER_OTLP_PROFILES_"};
        }
    }

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /** OTLP transport. */
    public enum Protocol {
        GRPC("grpc"), HTTP_PROTOBUF("http/protobuf");

        private final String envValue;

        Protocol(String envValue) {
            this.envValue = envValue;
        }

        public String envValue() {
            return envValue;
        }
    }

    /** Body compression. */
    public enum Compression { NONE, GZIP }

    public OtlpConfig {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(compression, "compression");
        Objects.requireNonNull(timeout, "timeout");
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        resourceAttributes = Collections.unmodifiableMap(new LinkedHashMap<>(resourceAttributes));
        if ((clientKey == null) != (clientCertificate == null)) {
            throw new IllegalArgumentException("mutual TLS needs both a client key and a client certificate");
        }
    }

    /** Whether the connection uses TLS (endpoint scheme {@code https}). */
    public boolean tls() {
        return "https".equalsIgnoreCase(endpoint.getScheme());
    }

    /** Reads the process environment. */
    public static OtlpConfig fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * Parses the OpenTelemetry exporter variables of the profiles signal from {@code env}.
     *
     * @throws IllegalArgumentException naming the variable when a value is invalid
     */
    public static OtlpConfig fromEnvironment(Map<String, String> env) {
        return fromEnvironment(env, Signal.PROFILES);
    }

    /**
     * Parses the OpenTelemetry exporter variables of {@code signal} from {@code env}.
     *
     * @throws IllegalArgumentException naming the variable when a value is invalid
     */
    public static OtlpConfig fromEnvironment(Map<String, String> env, Signal signal) {
        String[] prefixes = signal.prefixes();
        Setting protocolSetting = setting(env, prefixes, "PROTOCOL");
        Protocol protocol = protocolSetting == null ? Protocol.GRPC : parseProtocol(protocolSetting);

        URI endpoint = null;
        for (String prefix : prefixes) {
            Setting s = nonBlank(env, prefix + "ENDPOINT");
            if (s == null) {
                continue;
            }
            if (prefix.equals("OTEL_EXPORTER_OTLP_")) {
                endpoint = parseEndpoint(s, protocol, signal.httpPath);
            } else if (prefix.contains(signal.infix)) {
                endpoint = parseEndpoint(s, protocol, null);
            } else {
                endpoint = profilesToMetrics(parseEndpoint(s, protocol, null), protocol);
            }
            break;
        }
        if (endpoint == null) {
            endpoint = protocol == Protocol.GRPC
                    ? URI.create("http://localhost:4317")
                    : URI.create("http://localhost:4318" + signal.httpPath);
        }

        Setting headersSetting = setting(env, prefixes, "HEADERS");
        Map<String, String> headers = headersSetting == null ? Map.of() : parseKeyValues(headersSetting);
        for (String key : headers.keySet()) {
            if (!key.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':')) {
                throw invalid(headersSetting, "header name '" + key + "' is not a valid HTTP header name");
            }
        }

        Setting compressionSetting = setting(env, prefixes, "COMPRESSION");
        Compression compression = compressionSetting == null ? Compression.NONE : parseCompression(compressionSetting);

        Setting timeoutSetting = setting(env, prefixes, "TIMEOUT");
        Duration timeout = timeoutSetting == null ? DEFAULT_TIMEOUT : parseTimeout(timeoutSetting);

        Path certificate = path(setting(env, prefixes, "CERTIFICATE"));
        Path clientKey = path(setting(env, prefixes, "CLIENT_KEY"));
        Path clientCertificate = path(setting(env, prefixes, "CLIENT_CERTIFICATE"));
        if ((clientKey == null) != (clientCertificate == null)) {
            throw new IllegalArgumentException("OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
                    + " (or their _" + signal.infix + "_ forms) must be set together for mutual TLS; only one of them is set");
        }

        Map<String, String> resource = new LinkedHashMap<>();
        Setting resourceSetting = nonBlank(env, "OTEL_RESOURCE_ATTRIBUTES");
        if (resourceSetting != null) {
            resource.putAll(parseKeyValues(resourceSetting));
        }
        Setting serviceName = nonBlank(env, "OTEL_SERVICE_NAME");
        if (serviceName != null) {
            resource.put("service.name", serviceName.value().trim());
        }
        return new OtlpConfig(protocol, endpoint, headers, compression, timeout, certificate, clientKey,
                clientCertificate, resource);
    }

    /** A variable's name and raw value, kept together so errors can name the variable. */
    private record Setting(String name, String value) {
    }

    private static Setting setting(Map<String, String> env, String[] prefixes, String suffix) {
        for (String prefix : prefixes) {
            Setting s = nonBlank(env, prefix + suffix);
            if (s != null) {
                return s;
            }
        }
        return null;
    }

    /** The metrics URL at the collector a profiles endpoint names (gRPC: the same target). */
    private static URI profilesToMetrics(URI profiles, Protocol protocol) {
        if (protocol == Protocol.GRPC) {
            return profiles;
        }
        String s = profiles.toString();
        if (profiles.getRawQuery() == null && profiles.getRawFragment() == null && s.endsWith(HTTP_SIGNAL_PATH)) {
            return URI.create(s.substring(0, s.length() - HTTP_SIGNAL_PATH.length()) + HTTP_METRICS_PATH);
        }
        String port = profiles.getPort() == -1 ? "" : ":" + profiles.getPort();
        return URI.create(profiles.getScheme() + "://" + hostForUri(profiles.getHost()) + port + HTTP_METRICS_PATH);
    }

    private static Setting nonBlank(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : new Setting(name, v);
    }

    private static IllegalArgumentException invalid(Setting s, String why) {
        // Header values carry credentials (API keys, bearer tokens): never echo them.
        String shown = s.name().endsWith("HEADERS") ? "" : "='" + s.value() + "'";
        return new IllegalArgumentException(s.name() + shown + " is invalid: " + why);
    }

    private static Protocol parseProtocol(Setting s) {
        String v = s.value().trim().toLowerCase(Locale.ROOT);
        for (Protocol p : Protocol.values()) {
            if (p.envValue.equals(v)) {
                return p;
            }
        }
        if (v.equals("http/json")) {
            throw invalid(s, "http/json is not supported by moonwalk; use grpc or http/protobuf");
        }
        throw invalid(s, "expected grpc or http/protobuf");
    }

    private static Compression parseCompression(Setting s) {
        return switch (s.value().trim().toLowerCase(Locale.ROOT)) {
            case "gzip" -> Compression.GZIP;
            case "none" -> Compression.NONE;
            default -> throw invalid(s, "expected gzip or none");
        };
    }

    private static Duration parseTimeout(Setting s) {
        long ms;
        try {
            ms = Long.parseLong(s.value().trim());
        } catch (NumberFormatException e) {
            throw invalid(s, "expected a whole number of milliseconds, e.g. 10000");
        }
        if (ms <= 0) {
            throw invalid(s, "the timeout must be a positive number of milliseconds");
        }
        return Duration.ofMillis(ms);
    }

    private static Path path(Setting s) {
        return s == null ? null : Path.of(s.value().trim());
    }

    /** @param appendPath the signal path to put after a generic endpoint's path, or null to use it as given */
    private static URI parseEndpoint(Setting s, Protocol protocol, String appendPath) {
        URI uri;
        try {
            uri = new URI(s.value().trim());
        } catch (URISyntaxException e) {
            throw invalid(s, "not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
            throw invalid(s, "the endpoint needs an http:// or https:// scheme, e.g. http://collector:4317");
        }
        if (uri.getHost() == null) {
            throw invalid(s, "the endpoint has no host name");
        }
        if (protocol == Protocol.GRPC) {
            String path = uri.getPath();
            if (path != null && !path.isEmpty() && !path.equals("/")) {
                throw invalid(s, "a gRPC endpoint is scheme://host:port without a path");
            }
            int port = uri.getPort() == -1 ? (scheme.equalsIgnoreCase("https") ? 443 : 80) : uri.getPort();
            return URI.create(scheme.toLowerCase(Locale.ROOT) + "://" + hostForUri(uri.getHost()) + ":" + port);
        }
        if (appendPath == null) {
            return uri;
        }
        String base = uri.toString();
        if (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return URI.create(base + appendPath);
    }

    private static String hostForUri(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /**
     * Parses {@code k1=v1,k2=v2} with percent-decoded keys and values (the W3C-baggage-like format
     * shared by {@code OTEL_EXPORTER_OTLP_HEADERS} and {@code OTEL_RESOURCE_ATTRIBUTES}).
     */
    private static Map<String, String> parseKeyValues(Setting s) {
        Map<String, String> out = new LinkedHashMap<>();
        String[] items = s.value().split(",");
        for (int i = 0; i < items.length; i++) {
            String item = items[i];
            if (item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            if (eq < 0) {
                throw invalid(s, "entry " + (i + 1) + " has no '='; expected key=value pairs separated by commas");
            }
            String key = decode(s, i, item.substring(0, eq).trim());
            String value = decode(s, i, item.substring(eq + 1).trim());
            if (key.isEmpty()) {
                throw invalid(s, "entry " + (i + 1) + " has an empty key");
            }
            out.put(key, value);
        }
        return out;
    }

    private static String decode(Setting s, int index, String text) {
        // URLDecoder would turn '+' into a space, which percent-encoding (RFC 3986) does not do.
        try {
            return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalid(s, "entry " + (index + 1) + " has a bad percent-encoding (a '%' not followed by two hex digits)");
        }
    }
}
