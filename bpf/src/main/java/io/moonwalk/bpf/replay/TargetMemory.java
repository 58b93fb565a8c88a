package io.moonwalk.bpf.replay;

import java.lang.foreign.MemorySegment;

/** The replayed process's memory, as {@code bpf_probe_read_user} sees it (a core file's PT_LOAD segments). */
@FunctionalInterface
public interface TargetMemory {
    /** Fills all of {@code dst} from {@code address}; false when any byte of it is not in the target (a fault). */
    boolean read(long address, MemorySegment dst);
}
