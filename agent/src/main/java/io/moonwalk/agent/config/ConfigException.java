package io.moonwalk.agent.config;

/** The configuration (file, flags or environment) is invalid; the message says where and why. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
