package io.moonwalk.elf;

import java.io.IOException;

/**
 * The bytes are not a well-formed ELF64 little-endian file we can read. The message names the file
 * and the structure that was out of bounds or inconsistent, so an operator can tell a truncated
 * download from an unsupported architecture.
 */
public final class ElfFormatException extends IOException {
    public ElfFormatException(String message) {
        super(message);
    }
}
