package io.moonwalk.agent.config;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Tag("pure")
class ConfigPrecedenceTest {
    private static final Path FILE = Path.of("/etc/moonwalk/test.conf");
    private static final Set<String> KEYS = Set.of("hz", "store-dir", "pid", "interval");

    @Command(name = "t")
    static final class Cmd {
        @Option(names = "--hz", defaultValue = "19")
        int hz;
        @Option(names = "--store-dir", defaultValue = "/var/lib/moonwalk")
        String storeDir;
        @Option(names = "--interval", defaultValue = "5s")
        String interval;
    }

    private static Cmd parse(Map<String, String> env, String conf, String... args) {
        Cmd c = new Cmd();
        CommandLine cl = new CommandLine(c);
        cl.setDefaultValueProvider(new LayeredDefaults(env, ConfigFile.parse(FILE, conf, KEYS)));
        cl.parseArgs(args);
        return c;
    }

    @Test
    void flagBeatsEnvironmentBeatsFileBeatsDefault() {
        String conf = "# comment\n\nhz = 49\nstore-dir = /srv/mw\n--interval=10s\n";
        Cmd fileOnly = parse(Map.of(), conf);
        assertThat(fileOnly.hz).isEqualTo(49);
        assertThat(fileOnly.storeDir).isEqualTo("/srv/mw");
        assertThat(fileOnly.interval).isEqualTo("10s");
        Cmd envOverFile = parse(Map.of("MOONWALK_HZ", "29"), conf);
        assertThat(envOverFile.hz).isEqualTo(29);
        assertThat(envOverFile.storeDir).isEqualTo("/srv/mw");
        Cmd flagOverAll = parse(Map.of("MOONWALK_HZ", "29"), conf, "--hz", "7");
        assertThat(flagOverAll.hz).isEqualTo(7);
        Cmd defaults = parse(Map.of(), "");
        assertThat(defaults.hz).isEqualTo(19);
        assertThat(defaults.storeDir).isEqualTo("/var/lib/moonwalk");
    }

    @Test
    void fromFileTellsWhereAValueCameFrom() {
        LayeredDefaults d = new LayeredDefaults(Map.of("MOONWALK_HZ", "29"),
                ConfigFile.parse(FILE, "hz = 49\nstore-dir = /x\n", KEYS));
        assertThat(d.fromFile("--hz")).isFalse();
        assertThat(d.fromFile("--store-dir")).isTrue();
        assertThat(d.fromFile("--interval")).isFalse();
    }

    @Test
    void badFilesNameTheLine() {
        assertThatThrownBy(() -> ConfigFile.parse(FILE, "hz = 1\nhzz = 2\n", KEYS))
                .isInstanceOf(ConfigException.class).hasMessageContaining("test.conf:2").hasMessageContaining("hzz");
        assertThatThrownBy(() -> ConfigFile.parse(FILE, "hz 1\n", KEYS))
                .hasMessageContaining("test.conf:1").hasMessageContaining("key = value");
        assertThatThrownBy(() -> ConfigFile.parse(FILE, "hz = 1\nhz = 2\n", KEYS))
                .hasMessageContaining("test.conf:2").hasMessageContaining("twice");
        assertThatThrownBy(() -> ConfigFile.load(Path.of("/nonexistent/moonwalk.conf"), KEYS))
                .hasMessageContaining("does not exist");
    }

    @Test
    void configLocationPrefersTheFlag() {
        boolean[] explicit = new boolean[1];
        assertThat(ConfigLocation.find(new String[] {"agent", "--config", "/a.conf"}, Map.of("MOONWALK_CONFIG", "/b"),
                explicit)).isEqualTo(Path.of("/a.conf"));
        assertThat(explicit[0]).isTrue();
        assertThat(ConfigLocation.find(new String[] {"agent", "--config=/c.conf"}, Map.of(), explicit))
                .isEqualTo(Path.of("/c.conf"));
        assertThat(ConfigLocation.find(new String[] {"agent"}, Map.of("MOONWALK_CONFIG", "/b"), explicit))
                .isEqualTo(Path.of("/b"));
    }

    @Test
    void otlpSettingsKeepTheirOwnPrecedence() {
        // config file only
        OtlpSettings s = OtlpSettings.merge(Map.of(), Map.of(), Map.of("ENDPOINT", "http://file:4317"));
        assertThat(s.endpointConfigured()).isTrue();
        assertThat(s.variables()).containsEntry("OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "http://file:4317");
        // an OTEL variable beats the file
        s = OtlpSettings.merge(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4317"), Map.of(),
                Map.of("ENDPOINT", "http://file:4317"));
        assertThat(s.variables()).containsEntry("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4317")
                .doesNotContainKey("OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT");
        // a flag beats both OTEL forms
        s = OtlpSettings.merge(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4317",
                        "OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "http://envp:4317"),
                Map.of("ENDPOINT", "http://flag:4317"), Map.of("ENDPOINT", "http://file:4317"));
        assertThat(s.variables()).containsEntry("OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT", "http://flag:4317")
                .doesNotContainKey("OTEL_EXPORTER_OTLP_ENDPOINT");
        assertThat(OtlpSettings.merge(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), Map.of(), Map.of())
                .endpointConfigured()).isFalse();
    }

    @Test
    void kubernetesNodeNameFromTheDownwardApi() {
        assertThat(KubernetesAttributes.from(Map.of("NODE_NAME", "n1"))).containsExactly(Map.entry("k8s.node.name", "n1"));
        assertThat(KubernetesAttributes.from(Map.of("NODE_NAME", "n1", "K8S_NODE_NAME", "n2")))
                .containsEntry("k8s.node.name", "n2");
        assertThat(KubernetesAttributes.from(Map.of())).isEmpty();
    }
}
