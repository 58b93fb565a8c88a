package io.moonwalk.luajit.jit;

/** What {@link TraceSnapshotReader} found for one sampled trace position: its frames, or why none. */
public sealed interface SnapshotResult permits SnapshotFrames, SnapshotFallback {
}
