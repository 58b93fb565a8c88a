/**
 * Configuration sources below the command line: the config file, environment defaults, OTLP and Kubernetes settings.
 */
package io.moonwalk.agent.config;
