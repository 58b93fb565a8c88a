package io.moonwalk.agent.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The agent's configuration file: one {@code key = value} per line, keys are the long flag names
 * without dashes ({@code hz = 19}, {@code store-dir = /var/lib/moonwalk}), {@code #} starts a
 * comment line, blank lines are ignored, repeatable options take a comma-separated list. A key
 * given twice or one the command does not know is an error naming the line, so a typo never
 * silently leaves a default in place.
 */
public final class ConfigFile {
    /** Read when {@code --config} is not given, if it exists. */
    public static final Path DEFAULT_PATH = Path.of("/etc/moonwalk/moonwalk.conf");
    /** Larger files are refused: a configuration file is a few hundred bytes. */
    static final long MAX_BYTES = 1 << 20;

    private final Path path;
    private final Map<String, String> values;

    private ConfigFile(Path path, Map<String, String> values) {
        this.path = path;
        this.values = Collections.unmodifiableMap(values);
    }

    /** No file: every lookup answers null. */
    public static ConfigFile empty() {
        return new ConfigFile(null, new LinkedHashMap<>());
    }

    /**
     * Reads {@code path}.
     *
     * @param knownKeys the keys the command accepts
     * @throws ConfigException naming the file (and line) when it cannot be read or is invalid
     */
    public static ConfigFile load(Path path, Set<String> knownKeys) {
        String text;
        try {
            if (Files.size(path) > MAX_BYTES) {
                throw new ConfigException("config file " + path + " is larger than " + MAX_BYTES
                        + " bytes; is it the right file?");
            }
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + path + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + path + ": " + e.getMessage());
        }
        return parse(path, text, knownKeys);
    }

    static ConfigFile parse(Path path, String text, Set<String> knownKeys) {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            String where = path + ":" + (i + 1);
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new ConfigException(where + ": expected 'key = value', got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (key.startsWith("--")) {
                key = key.substring(2);
            }
            if (!knownKeys.contains(key)) {
                throw new ConfigException(where + ": unknown key '" + key + "'; known keys: "
                        + String.join(", ", knownKeys.stream().sorted().toList()));
            }
            if (values.putIfAbsent(key, value) != null) {
                throw new ConfigException(where + ": key '" + key + "' is set twice");
            }
        }
        return new ConfigFile(path, values);
    }

    /** The value for {@code key} (a long flag name without dashes), or null. */
    public String get(String key) {
        return values.get(key);
    }

    /** The file read, or null for {@link #empty()}. */
    public Path path() {
        return path;
    }

    public Map<String, String> values() {
        return values;
    }
}
