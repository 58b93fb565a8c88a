/**
 * Per-window aggregation of raw kernel stacks: the bounded table of distinct (process, thread, stack, labels) entries with their counts.
 */
package io.moonwalk.agent.aggregate;
