package io.moonwalk.elf;

/** The {@code .gnu_debuglink} content: the debug file's name and the CRC32 of its contents. */
public record DebugLink(String fileName, int crc32) {
}
