/**
 * The profiling session: the one object {@code record}, {@code agent} and {@code bench} run — the loaded sampler,
 * the map sync, the interpreter plugins and the sample collector, built in one place — and the immutable stats
 * snapshots it publishes for metrics, readiness and the record summary.
 */
package io.moonwalk.agent.session;
