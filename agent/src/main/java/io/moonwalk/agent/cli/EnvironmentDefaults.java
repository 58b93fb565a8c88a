package io.moonwalk.agent.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Lets every option be set from the environment: {@code --duration} reads {@code MOONWALK_DURATION},
 * {@code --pid} reads {@code MOONWALK_PID} (comma-separated for repeatable options). A flag on the
 * command line wins over the environment, which wins over the built-in default.
 */
public final class EnvironmentDefaults implements IDefaultValueProvider {
    private final Map<String, String> env;

    public EnvironmentDefaults() {
        this(System.getenv());
    }

    EnvironmentDefaults(Map<String, String> env) {
        this.env = env;
    }

    /** The environment variable that sets an option, e.g. {@code MOONWALK_HZ} for {@code --hz}. */
    public static String variableFor(String longName) {
        return "MOONWALK_" + longName.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(ArgSpec argSpec) {
        if (!(argSpec instanceof OptionSpec option)) {
            return null;
        }
        String value = env.get(variableFor(option.longestName()));
        if (value == null || value.isBlank()) {
            return null;
        }
        return value;
    }
}
