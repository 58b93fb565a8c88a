/**
 * moonwalk bench: the in-kernel cost of the sampler and the agent's ingest/symbolize rate, measured in one run.
 */
package io.moonwalk.agent.bench;
