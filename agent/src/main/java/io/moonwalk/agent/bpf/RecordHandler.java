package io.moonwalk.agent.bpf;

/** Receives the records of one {@link BpfSampler#drain} call, on the draining thread. */
public interface RecordHandler {
    /** {@code r} is valid only for the duration of this call. */
    void onSample(SampleRecord r);

    /** The whole process {@code pid} exited (may be reported twice when its last threads exit together). */
    void onExit(int pid, long ktimeNanos);
}
