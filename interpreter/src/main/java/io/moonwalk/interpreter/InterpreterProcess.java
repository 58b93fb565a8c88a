package io.moonwalk.interpreter;

import io.moonwalk.frame.Frame;
import java.util.List;

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

    /**
     * The frames of the frame whose first word is {@code stack.word(i)}, leaf first: usually {@link #frame} alone,
     * more when compiled code holds calls the compiler inlined (their frames exist only in its records), none when
     * the frame is shown elsewhere. The list is not modified by the caller. Window end.
     */
    default List<Frame> frames(FrameWords stack, int i, boolean afterNative, NativeNames natives) {
        Frame f = frame(stack, i, afterNative, natives);
        return f == null ? List.of() : List.of(f);
    }
}
