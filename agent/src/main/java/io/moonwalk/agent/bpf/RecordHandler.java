package io.moonwalk.agent.bpf;

import io.moonwalk.bpf.layout.RecordLayout;

/** Receives the records of one {@link BpfSampler#drain} call, on the draining thread. */
public interface RecordHandler {
    /** {@code r} is valid only for the duration of this call. */
    void onSample(SampleRecord r);

    /** The whole process {@code pid} exited (may be reported twice when its last threads exit together). */
    void onExit(int pid, long ktimeNanos);

    /**
     * The kernel asks for the maps of {@code pid} to be (re)installed: {@code type} is
     * {@link RecordLayout#EVENT_NEW_PID} (a sample of a process not synced yet; {@code pc} its user leaf) or
     * {@link RecordLayout#EVENT_UNKNOWN_PC} (the walker met {@code pc} outside every installed mapping), or
     * {@link RecordLayout#EVENT_EXEC} ({@code pid}, which had maps installed, replaced its image; {@code pc} 0: the
     * kernel already dropped the PID's marker, records after this one belong to the new image).
     * NEW_PID and UNKNOWN_PC are rate-limited in the kernel per (pid, type). Ignored by default.
     */
    default void onPidEvent(int type, int pid, long pc) {
    }
}
