package io.moonwalk.symbolize.kernel;

import java.io.IOException;

/** {@code /proc/kallsyms} cannot give real addresses (every address reads as 0, or the file is unreadable). */
public final class KallsymsUnavailableException extends IOException {
    public KallsymsUnavailableException(String message) {
        super(message);
    }
}
