/**
 * Coredump replay: a core file's threads walked by the host build of the kernel's own sample program and walkers
 * (io.moonwalk.bpf.replay.HostWalker), with the maps filled by the agent's own sync code and plugins, and the stacks
 * named by the same collector and symbolizer as {@code record} ({@code moonwalk stack --core}, docs/replay.md).
 */
package io.moonwalk.agent.replay;
