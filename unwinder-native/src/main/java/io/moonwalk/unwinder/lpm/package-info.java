/**
 * What the agent writes into the kernel's {@code pid_maps} LPM trie for one mapping of one process: the
 * power-of-two aligned prefixes that cover the mapping's address range ({@link io.moonwalk.unwinder.lpm.LpmPrefixes})
 * and the load bias that turns a runtime PC into the file virtual address the unwind table is keyed by
 * ({@link io.moonwalk.unwinder.lpm.MappingBias}).
 */
package io.moonwalk.unwinder.lpm;
