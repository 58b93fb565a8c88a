package io.moonwalk.luajit.lowmem;

import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Computes {@link LowHeadroom} from {@code /proc/PID/maps}. The range follows lj_alloc.c for x86_64 without GC64:
 * {@code LJ_ALLOC_MBITS} 31 (addresses and ends below 2 GiB), nothing below {@code LJ_ALLOC_MMAP_PROBE_LOWER}
 * (0x4000) nor below the kernel's {@code vm.mmap_min_addr}. LuaJIT first maps with {@code MAP_32BIT} (which Linux
 * serves from 1-2 GiB only) and then probes the whole range, so the whole range counts.
 */
public final class LowHeadroomScanner {
    /** LJ_ALLOC_MBITS on x86_64 without GC64. */
    public static final long RANGE_END = 1L << 31;
    /** LJ_ALLOC_MMAP_PROBE_LOWER. */
    static final long PROBE_LOWER = 0x4000;

    private final long rangeStart;

    public LowHeadroomScanner() {
        this(Math.max(PROBE_LOWER, mmapMinAddr()));
    }

    LowHeadroomScanner(long rangeStart) {
        this.rangeStart = rangeStart;
    }

    /** The headroom of {@code pid} now; a vanished process gives {@link java.nio.file.NoSuchFileException}. */
    public LowHeadroom scan(int pid) throws IOException {
        return of(pid, ProcessMaps.read(pid).mappings(), rangeStart, RANGE_END);
    }

    /** The headroom that {@code mappings} (sorted by address, as the kernel lists them) leave in [lo, hi). */
    public static LowHeadroom of(int pid, List<Mapping> mappings, long lo, long hi) {
        List<Mapping> sorted = new ArrayList<>(mappings);
        sorted.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));
        long anon = 0;
        long brk = 0;
        long file = 0;
        long other = 0;
        long largest = 0;
        long free = 0;
        long cursor = lo;
        for (Mapping m : sorted) {
            long s = Math.max(m.start(), lo);
            long e = Math.min(m.end(), hi);
            if (Long.compareUnsigned(m.start(), hi) >= 0) {
                break;
            }
            if (e <= s) {
                continue;
            }
            if (s > cursor) {
                free += s - cursor;
                largest = Math.max(largest, s - cursor);
            }
            cursor = Math.max(cursor, e);
            long n = e - s;
            if ("[heap]".equals(m.path())) {
                brk += n;
            } else if (m.isFileBacked()) {
                file += n;
            } else if (m.isAnonymous()) {
                anon += n;
            } else {
                other += n;
            }
        }
        if (hi > cursor) {
            free += hi - cursor;
            largest = Math.max(largest, hi - cursor);
        }
        return new LowHeadroom(pid, lo, hi, free, largest, anon, brk, file, other);
    }

    private static long mmapMinAddr() {
        try {
            return Long.parseLong(Files.readString(Path.of("/proc/sys/vm/mmap_min_addr")).trim());
        } catch (IOException | NumberFormatException e) {
            return 65536; // the usual default
        }
    }
}
