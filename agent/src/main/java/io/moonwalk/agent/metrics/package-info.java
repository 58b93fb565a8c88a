/**
 * The agent's own metrics: meter definitions, the Prometheus endpoint's registry and the OTLP metrics push.
 */
package io.moonwalk.agent.metrics;
