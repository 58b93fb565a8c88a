package io.moonwalk.agent.config;

import java.util.HashMap;
import java.util.Map;

/**
 * Merges the agent's own OTLP settings with the OpenTelemetry variables into the one variable map
 * {@link io.moonwalk.agent.export.otlp.OtlpConfig#fromEnvironment(Map)} reads, keeping the
 * documented precedence for each setting (endpoint, protocol, compression, headers, timeout):
 * <ol>
 *   <li>{@code --otlp-X} on the command line or {@code MOONWALK_OTLP_X};</li>
 *   <li>{@code OTEL_EXPORTER_OTLP_PROFILES_X}, then {@code OTEL_EXPORTER_OTLP_X};</li>
 *   <li>{@code otlp-X} in the config file.</li>
 * </ol>
 * Values from levels 1 and 3 are used as the profiles-specific setting, so an endpoint given there
 * is used exactly as written (for http/protobuf: the full URL including the path).
 */
public final class OtlpSettings {
    private static final String GENERIC = "OTEL_EXPORTER_OTLP_";
    private static final String SPECIFIC = "OTEL_EXPORTER_OTLP_PROFILES_";

    private final Map<String, String> merged;

    private OtlpSettings(Map<String, String> merged) {
        this.merged = merged;
    }

    /**
     * @param env  the process environment
     * @param high suffix ({@code ENDPOINT}, {@code PROTOCOL}, ...) to value from flags or MOONWALK_*
     * @param low  suffix to value from the config file
     */
    public static OtlpSettings merge(Map<String, String> env, Map<String, String> high, Map<String, String> low) {
        Map<String, String> m = new HashMap<>(env);
        for (var e : low.entrySet()) {
            if (e.getValue() != null && !set(env, GENERIC + e.getKey()) && !set(env, SPECIFIC + e.getKey())) {
                m.put(SPECIFIC + e.getKey(), e.getValue());
            }
        }
        for (var e : high.entrySet()) {
            if (e.getValue() != null) {
                m.remove(GENERIC + e.getKey());
                m.put(SPECIFIC + e.getKey(), e.getValue());
            }
        }
        return new OtlpSettings(m);
    }

    private static boolean set(Map<String, String> env, String name) {
        String v = env.get(name);
        return v != null && !v.isBlank();
    }

    /** Whether any level names an endpoint: without one the agent keeps profiles locally instead. */
    public boolean endpointConfigured() {
        return set(merged, SPECIFIC + "ENDPOINT") || set(merged, GENERIC + "ENDPOINT");
    }

    public Map<String, String> variables() {
        return merged;
    }
}
