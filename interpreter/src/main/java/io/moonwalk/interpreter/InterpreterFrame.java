package io.moonwalk.interpreter;

import java.util.Objects;

/**
 * What a plugin names one interpreter frame with; the core turns it into its frame model.
 *
 * @param name     the display name ({@code function (file:line)} for a function with a source position)
 * @param file     the source file (chunk) the function belongs to, or empty
 * @param compiled the frame runs in JIT-compiled code
 */
public record InterpreterFrame(String name, String file, boolean compiled) {
    public InterpreterFrame {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(file, "file");
    }

    /** The same frame, running in compiled code. */
    public InterpreterFrame asCompiled() {
        return compiled ? this : new InterpreterFrame(name, file, true);
    }
}
