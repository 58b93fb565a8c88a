package io.moonwalk.luajit.lowmem;

/**
 * The low address range a non-GC64 LuaJIT VM allocates its GC heap from (x86_64: below 2 GiB, the limit of its
 * 32-bit references and of its trace compiler), as the process's address map shows it.
 *
 * @param pid         the process
 * @param rangeStart  lowest address LuaJIT's allocator accepts
 * @param rangeEnd    end (exclusive) of the range
 * @param freeBytes   bytes of the range no mapping holds
 * @param largestGap  the largest free stretch: LuaJIT needs one at least as large as each arena it maps
 * @param anonBytes   anonymous mappings in the range: LuaJIT's arenas (and any other anonymous memory there)
 * @param brkBytes    the host's brk heap ({@code [heap]}) in the range: it grows up from just above a non-PIE
 *                    executable, into the same range
 * @param fileBytes   file mappings in the range (a non-PIE executable and its libraries)
 * @param otherBytes  anything else (stack, vdso, special mappings)
 */
public record LowHeadroom(int pid, long rangeStart, long rangeEnd, long freeBytes, long largestGap, long anonBytes,
                          long brkBytes, long fileBytes, long otherBytes) {
    /** Warning below this share of the range free: 1/8, i.e. 256 MiB of the 2 GiB on x86_64. */
    public static final int WARN_DIVISOR = 8;

    public long rangeBytes() {
        return rangeEnd - rangeStart;
    }

    /** Less than 1/{@link #WARN_DIVISOR} of the range is free. */
    public boolean low() {
        return freeBytes < rangeBytes() / WARN_DIVISOR;
    }
}
