package io.moonwalk.elf.core;

import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.Segment;
import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The memory of a core's process, read the way {@code process_vm_readv} reads a live one: bytes a PT_LOAD segment
 * holds come from the core; bytes the core left out (a segment's tail past filesz, or a file mapping with no segment
 * at all, as gcore leaves unmodified code) come from the mapped file, when NT_FILE names one and the
 * {@link MappedFileSource} finds it; anything else is unmapped. Pages served from the core are noted in
 * {@link CoreFile#touchedPages()} (what a trimmed copy of the core must keep). The pid argument of
 * {@link #read} is ignored (a core is one process). Not thread-safe.
 */
public final class CoreMemory implements MemoryReader, AutoCloseable {
    /** Largest single read, as {@link io.moonwalk.process.ProcessMemory#MAX_READ}. */
    public static final int MAX_READ = 1 << 16;

    private final CoreFile core;
    private final MappedFileSource source;
    private final List<Segment> loads;
    private final long[] starts;
    private final Map<String, FileChannel> open = new HashMap<>();
    private int lastCount;

    CoreMemory(CoreFile core, MappedFileSource source) {
        this.core = core;
        this.source = source;
        this.loads = core.loads();
        this.starts = new long[loads.size()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = loads.get(i).vaddr();
        }
    }

    @Override
    public ReadStatus read(int pid, long address, byte[] dst, int offset, int length) {
        lastCount = 0;
        if (offset < 0 || length < 0 || length > dst.length - offset || length > MAX_READ) {
            return ReadStatus.TOO_LARGE;
        }
        int done = 0;
        while (done < length) {
            int n = readSome(address + done, dst, offset + done, length - done);
            if (n <= 0) {
                break;
            }
            done += n;
        }
        lastCount = done;
        return done == length ? ReadStatus.OK : done == 0 ? ReadStatus.UNMAPPED : ReadStatus.PARTIAL;
    }

    /** Reads all of {@code dst} at {@code address}; false when any of it is not in the process's memory. */
    public boolean readFully(long address, ByteBuffer dst) {
        byte[] b = new byte[dst.remaining()];
        if (read(0, address, b, 0, b.length) != ReadStatus.OK) {
            return false;
        }
        dst.put(b);
        return true;
    }

    @Override
    public int lastCount() {
        return lastCount;
    }

    /** Bytes read from the segment holding {@code address} (up to its end), 0 when none holds it. */
    private int readSome(long address, byte[] dst, int offset, int length) {
        Segment s = segmentOf(address);
        if (s == null) {
            return fromFile(address, dst, offset, length);
        }
        long inSeg = address - s.vaddr();
        long n = Math.min(length, s.memsz() - inSeg);
        if (inSeg < s.filesz()) {
            n = Math.min(n, s.filesz() - inSeg);
            try {
                ByteBuffer b = core.bytes(s.offset() + inSeg, n);
                b.get(dst, offset, (int) n);
                core.touched(address, n);
                return (int) n;
            } catch (ElfFormatException e) {
                return 0; // checked at open; a file truncated since is a fault, like a vanished page
            }
        }
        return fromFile(address, dst, offset, (int) n);
    }

    private int fromFile(long address, byte[] dst, int offset, int length) {
        MappedFile f = core.fileAt(address);
        if (f == null) {
            return 0;
        }
        length = (int) Math.min(length, f.end() - address);
        Segment next = segmentAfter(address);
        if (next != null) {
            length = (int) Math.min(length, next.vaddr() - address); // the core's own bytes take over there
        }
        FileChannel ch = channel(f);
        if (ch == null) {
            return 0;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(dst, offset, length);
            long pos = f.offset() + (address - f.start());
            int total = 0;
            while (b.hasRemaining()) {
                int r = ch.read(b, pos + total);
                if (r <= 0) {
                    break;
                }
                total += r;
            }
            return total;
        } catch (IOException e) {
            return 0;
        }
    }

    private FileChannel channel(MappedFile f) {
        if (open.containsKey(f.path())) {
            return open.get(f.path());
        }
        FileChannel ch = null;
        Optional<Path> p = source.resolve(f);
        if (p.isPresent()) {
            try {
                ch = FileChannel.open(p.get(), StandardOpenOption.READ);
            } catch (IOException | RuntimeException e) {
                ch = null;
            }
        }
        open.put(f.path(), ch);
        return ch;
    }

    /** The first segment starting above {@code address}, or null. */
    private Segment segmentAfter(long address) {
        for (Segment s : loads) {
            if (Long.compareUnsigned(s.vaddr(), address) > 0) {
                return s;
            }
        }
        return null;
    }

    private Segment segmentOf(long address) {
        int lo = 0;
        int hi = starts.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(starts[mid], address) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) {
            return null;
        }
        Segment s = loads.get(found);
        return Long.compareUnsigned(address - s.vaddr(), s.memsz()) < 0 ? s : null;
    }

    @Override
    public void close() {
        for (FileChannel ch : open.values()) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // read-only channel: nothing to lose
                }
            }
        }
        open.clear();
    }
}
