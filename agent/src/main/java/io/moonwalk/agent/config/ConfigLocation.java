package io.moonwalk.agent.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Finds the config file before the command line is parsed (its values are defaults for that
 * parse): {@code --config FILE} or {@code --config=FILE}, else {@code MOONWALK_CONFIG}, else
 * {@link ConfigFile#DEFAULT_PATH} when it exists, else none.
 */
public final class ConfigLocation {
    private ConfigLocation() {
    }

    /** The file to read, or null; {@code explicit[0]} tells whether the user named it. */
    public static Path find(String[] args, Map<String, String> env, boolean[] explicit) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--")) {
                break;
            }
            if (args[i].equals("--config") && i + 1 < args.length) {
                explicit[0] = true;
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith("--config=")) {
                explicit[0] = true;
                return Path.of(args[i].substring("--config=".length()));
            }
        }
        String fromEnv = env.get("MOONWALK_CONFIG");
        if (fromEnv != null && !fromEnv.isBlank()) {
            explicit[0] = true;
            return Path.of(fromEnv.trim());
        }
        explicit[0] = false;
        return Files.isRegularFile(ConfigFile.DEFAULT_PATH) ? ConfigFile.DEFAULT_PATH : null;
    }
}
