package io.moonwalk.bpf.maps;


/**
 * The native unwinder's maps by name (defined in bpf/src/native.bpf.c and luajit.bpf.c). Two implementations: the agent's {@code KernelBpfMaps} over the
 * loaded BPF object, and {@link InMemoryBpfMaps} for tests and coredump replay, so that both run the same sync
 * code.
 */
public interface BpfMaps {
    String PID_MAPS = "pid_maps";
    String UNWIND_FILES = "unwind_files";
    String UNWIND_ENTRIES = "unwind_entries";
    String UNWIND_RULES = "unwind_rules";
    String LUAJIT_FILES = "luajit_files";

    /** @throws IllegalArgumentException no map of that name */
    BpfMap map(String name);
}
