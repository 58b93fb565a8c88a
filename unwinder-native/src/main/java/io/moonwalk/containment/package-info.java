/**
 * Containment of faults in the agent's long-running threads: the stages a fault is counted under
 * ({@link io.moonwalk.containment.Stage}), the process-wide failure counters and the test-only fault injection
 * ({@link io.moonwalk.containment.Faults}), and the workers' heartbeats that {@code /readyz} and {@code /healthz}
 * read ({@link io.moonwalk.containment.Heartbeats}). It lives in this module because it is the lowest one that
 * every thread owner (map sync, the LuaJIT plugin, the agent) depends on.
 */
package io.moonwalk.containment;
