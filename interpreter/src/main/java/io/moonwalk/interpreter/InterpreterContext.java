package io.moonwalk.interpreter;

import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.unwinder.sync.FailureLog;

/**
 * What a session gives a plugin when it starts.
 *
 * @param maps     the loaded BPF object's maps (the plugin writes its own: per-file data, per-process routes)
 * @param memory   reads target memory ({@code process_vm_readv}); target memory is hostile input
 * @param failures logs each distinct failure once and counts them
 */
public record InterpreterContext(BpfMaps maps, MemoryReader memory, FailureLog failures) {
}
