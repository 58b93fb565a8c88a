package io.moonwalk.elf.core;

/** One file mapping of the dumped process ({@code NT_FILE}): {@code [start, end)} maps {@code path} from {@code offset}. */
public record MappedFile(long start, long end, long offset, String path) {
    public boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }
}
