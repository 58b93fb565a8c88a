/**
 * The host replay build of the walkers (bpf/replay, libmwreplay.so): the kernel's sample program and walkers,
 * compiled for the host with only the helpers swapped, called through FFM against a core file's memory and maps
 * that the agent's own sync code filled (docs/replay.md).
 */
package io.moonwalk.bpf.replay;
