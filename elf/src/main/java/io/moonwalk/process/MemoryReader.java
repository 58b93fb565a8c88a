package io.moonwalk.process;

/**
 * Reads bytes of another process. {@link ProcessMemory} is the real one; tests substitute
 * synthetic images. Implementations need not be thread-safe.
 */
public interface MemoryReader {
    /**
     * Copies up to {@code length} bytes at {@code address} of process {@code pid} into {@code dst[offset..]}.
     * {@link ReadStatus#OK} means all of them; {@link ReadStatus#PARTIAL} means a prefix, whose size
     * {@link #lastCount()} gives.
     */
    ReadStatus read(int pid, long address, byte[] dst, int offset, int length);

    /** Bytes copied by the last {@link #read}. */
    int lastCount();
}
