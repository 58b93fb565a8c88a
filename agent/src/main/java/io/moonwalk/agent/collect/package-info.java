/**
 * From ring-buffer records to windows: the sample collector, the attached sampler that owns the kernel session, and the bounded registry of process identities.
 */
package io.moonwalk.agent.collect;
