/**
 * Profile writers and readers: folded stacks, pprof, the self-contained HTML flame graph.
 */
package io.moonwalk.agent.output;
