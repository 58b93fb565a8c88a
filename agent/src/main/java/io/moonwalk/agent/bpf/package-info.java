/**
 * The kernel side as the agent sees it: loading and attaching the BPF object through libbpf, perf events per CPU, the ring-buffer drain, BPF run-time statistics, and the kernel implementation of the BpfMaps seam.
 */
package io.moonwalk.agent.bpf;
