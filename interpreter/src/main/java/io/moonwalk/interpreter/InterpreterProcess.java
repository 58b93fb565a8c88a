package io.moonwalk.interpreter;

import io.moonwalk.frame.Frame;

/** One process running the interpreter (the per-process instance of the plugin shape). */
public interface InterpreterProcess {
    /**
     * A stack of this process is new in the current window (drain thread): the plugin may start reading what it
     * will need to name it (e.g. function prototypes) while the process is alive. Must not block. When the
     * instance is created mid-window, the core first shows it the window's earlier stacks of the process.
     */
    void stackSeen(FrameWords stack);

    /**
     * Names the frame whose first word is {@code stack.word(i)} (a kind {@link Interpreter#namesFrameKind} owns).
     * Returns null when the frame is shown elsewhere already (e.g. a C function that is also the native frame
     * just leafward of it, {@code afterNative}). Window end.
     */
    Frame frame(FrameWords stack, int i, boolean afterNative, NativeNames natives);
}
