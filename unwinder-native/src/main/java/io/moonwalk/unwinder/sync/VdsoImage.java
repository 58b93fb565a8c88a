package io.moonwalk.unwinder.sync;

import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The kernel's vDSO as this process sees it. Every process on one kernel maps the same image (at different
 * addresses), and it has no file under /proc/PID/map_files, so the agent builds its unwind table from its own
 * copy.
 */
public final class VdsoImage {
    /** Larger than any vDSO (a few pages); guards against a nonsensical mapping. */
    private static final long MAX_BYTES = 1 << 20;

    private VdsoImage() {
    }

    /** The bytes of this process's [vdso] mapping, or empty when there is none. */
    public static Optional<byte[]> read() throws IOException {
        Mapping vdso = ProcessMaps.read(Path.of("/proc/self/maps")).mappings().stream()
                .filter(Mapping::isVdso).findFirst().orElse(null);
        if (vdso == null) {
            return Optional.empty();
        }
        if (vdso.size() <= 0 || vdso.size() > MAX_BYTES) {
            throw new IOException("[vdso] mapping of " + vdso.size() + " bytes is implausible");
        }
        byte[] bytes = new byte[(int) vdso.size()];
        try (RandomAccessFile mem = new RandomAccessFile("/proc/self/mem", "r")) {
            mem.seek(vdso.start());
            mem.readFully(bytes);
        }
        return Optional.of(bytes);
    }
}
