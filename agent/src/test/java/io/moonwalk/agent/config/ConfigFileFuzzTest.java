package io.moonwalk.agent.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.moonwalk.agent.cli.DurationConverter;
import io.moonwalk.agent.cli.SizeConverter;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import picocli.CommandLine;

/**
 * Coverage-guided fuzzing of the config file and the value converters it feeds (seed: the shipped
 * example config). Any text gives a config or a {@link ConfigException} naming the problem; any value
 * gives a duration/size or a picocli conversion error, nothing else.
 */
@Tag("pure")
class ConfigFileFuzzTest {
    private static final Set<String> KEYS = Set.of("hz", "exe", "pid", "interval", "store-dir", "store-max-size",
            "store-max-age", "otlp-endpoint", "listen");

    @FuzzTest(maxDuration = "30s")
    void parse(String text) {
        if (text == null) {
            return; // the fuzzer's null String; a file always reads as text
        }
        ConfigFile c;
        try {
            c = ConfigFile.parse(Path.of("fuzz.conf"), text, KEYS);
        } catch (ConfigException e) {
            return;
        }
        for (String v : c.values().values()) {
            try {
                new DurationConverter().convert(v);
            } catch (CommandLine.TypeConversionException e) {
                // refused with a message
            }
            try {
                new SizeConverter().convert(v);
            } catch (CommandLine.TypeConversionException e) {
                // refused with a message
            }
        }
    }
}
