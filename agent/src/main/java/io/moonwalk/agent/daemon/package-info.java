/**
 * moonwalk agent: the continuous loop, its window sinks (OTLP, local store), process filters and readiness.
 */
package io.moonwalk.agent.daemon;
