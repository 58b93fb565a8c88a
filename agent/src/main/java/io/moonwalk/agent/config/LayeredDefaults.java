package io.moonwalk.agent.config;

import io.moonwalk.agent.cli.EnvironmentDefaults;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Defaults for options not given on the command line: the {@code MOONWALK_*} environment variable
 * first, then the config file, then the option's built-in default. Flags are applied by picocli
 * itself and so win over both.
 */
public final class LayeredDefaults implements IDefaultValueProvider {
    private final Map<String, String> env;
    private final ConfigFile file;

    public LayeredDefaults(Map<String, String> env, ConfigFile file) {
        this.env = Objects.requireNonNull(env, "env");
        this.file = Objects.requireNonNull(file, "file");
    }

    @Override
    public String defaultValue(ArgSpec argSpec) {
        if (!(argSpec instanceof OptionSpec option)) {
            return null;
        }
        String name = option.longestName();
        String fromEnv = env.get(EnvironmentDefaults.variableFor(name));
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        return file.get(keyOf(name));
    }

    /** Whether the value of {@code longName} comes from the config file (no environment override). */
    public boolean fromFile(String longName) {
        String fromEnv = env.get(EnvironmentDefaults.variableFor(longName));
        return (fromEnv == null || fromEnv.isBlank()) && file.get(keyOf(longName)) != null;
    }

    /** The config-file key of an option: its long name without dashes. */
    public static String keyOf(String longName) {
        return longName.replaceFirst("^-+", "");
    }

    public ConfigFile file() {
        return file;
    }
}
