package io.moonwalk.interpreter;

import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.unwinder.sync.FailureLog;
import java.util.function.Supplier;

/**
 * What a session gives a plugin when it starts.
 *
 * @param maps     the loaded BPF object's maps (the plugin writes its own: per-file data, per-process routes)
 * @param memory   a new reader of target memory ({@code process_vm_readv}) per call: readers keep scratch buffers
 *                 and are not thread-safe, so each reading thread (or lock) takes its own; target memory is
 *                 hostile input
 * @param failures logs each distinct failure once and counts them
 */
public record InterpreterContext(BpfMaps maps, Supplier<MemoryReader> memory, FailureLog failures) {
}
