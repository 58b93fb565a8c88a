package io.moonwalk.frame;

import java.util.Objects;

/**
 * The mapped file a native or kernel frame's address lies in, as the process (or kernel) maps it: what pprof and
 * OTLP call a mapping, so a backend can turn the address into a file offset and symbolize it itself.
 *
 * @param file       the path as mapped ({@code /usr/lib/x86_64-linux-gnu/libc.so.6}), or a pseudo name
 *                   ({@code [vdso]}, {@code [kernel.kallsyms]}, {@code [nf_tables]}); empty for {@link #NONE}
 * @param start      first address of the mapping
 * @param limit      first address past the mapping
 * @param offset     file offset mapped at {@code start}
 * @param gnuBuildId the GNU build id in lower-case hex, or empty when the file has none or could not be read
 * @param htlHash    the OpenTelemetry {@code htlhash} build id (SHA-256 of the file's first and last 4 KiB and its
 *                   length, 32 hex digits), or empty when the file could not be read
 */
public record CodeMapping(String file, long start, long limit, long offset, String gnuBuildId, String htlHash) {
    /** No mapping: interpreted frames, error frames, addresses outside every known mapping. */
    public static final CodeMapping NONE = new CodeMapping("", 0, 0, 0, "", "");

    public CodeMapping {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(gnuBuildId, "gnuBuildId");
        Objects.requireNonNull(htlHash, "htlHash");
    }

    /** A mapping without an htlhash. */
    public CodeMapping(String file, long start, long limit, long offset, String gnuBuildId) {
        this(file, start, limit, offset, gnuBuildId, "");
    }

    public boolean isNone() {
        return file.isEmpty() && start == 0 && limit == 0;
    }

    /** The last path component ({@code libc.so.6}); pseudo names as they are. */
    public String fileName() {
        return file.substring(file.lastIndexOf('/') + 1);
    }

    /** The offset in the file of {@code address}, which lies in this mapping. */
    public long fileOffset(long address) {
        return address - start + offset;
    }
}
