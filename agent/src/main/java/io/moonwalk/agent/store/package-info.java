/**
 * The rolling local store of windows (pprof + folded files) with size and age bounds.
 */
package io.moonwalk.agent.store;
