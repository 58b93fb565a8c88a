package io.moonwalk.unwinder.cfi;

/** Call frame information that cannot be parsed; the message names the section offset and what was wrong. */
public final class CfiFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public CfiFormatException(String message) {
        super(message);
    }
}
