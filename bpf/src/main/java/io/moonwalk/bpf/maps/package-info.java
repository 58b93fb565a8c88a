/**
 * The BpfMaps seam: named BPF maps with a kernel implementation (in the agent) and an in-memory one (coredump replay, tests), and their fill accounting.
 */
package io.moonwalk.bpf.maps;
