package io.moonwalk.elf.core;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.Segment;
import io.moonwalk.process.Mapping;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;

/**
 * An x86_64 Linux core file: its memory segments, threads, file mappings, auxiliary vector and command. Parsed
 * eagerly (notes) and checked: overlapping or wrapping {@code PT_LOAD} segments, notes that run past their segment,
 * descriptors of the wrong size and counts beyond the caps below are {@link ElfFormatException}s that name the core
 * and the structure. Memory is read on demand through {@link #memory}.
 */
public final class CoreFile implements AutoCloseable {
    public static final int NT_PRSTATUS = 1;
    public static final int NT_PRPSINFO = 3;
    public static final int NT_AUXV = 6;
    public static final int NT_FILE = 0x46494c45;
    public static final long AT_SYSINFO_EHDR = 33;

    /** Caps: a real core has a few hundred segments, threads and files; beyond these the file is hostile. */
    static final int MAX_THREADS = 1 << 16;
    static final int MAX_FILES = 1 << 18;
    static final long MAX_NOTE_BYTES = 64L << 20;
    static final int MAX_PATH = 4096;
    static final int MAX_AUXV = 1024;

    /** x86_64 struct elf_prstatus: pr_pid at 32, pr_reg (user_regs_struct) at 112, 336 bytes in all. */
    private static final int PRSTATUS_BYTES = 336;
    private static final int PRSTATUS_SIGNAL = 12;
    private static final int PRSTATUS_PID = 32;
    private static final int PRSTATUS_REGS = 112;
    /** x86_64 struct elf_prpsinfo: pr_pid at 24, pr_fname[16] at 40, pr_psargs[80] at 56, 136 bytes. */
    private static final int PRPSINFO_BYTES = 136;
    private static final int PRPSINFO_PID = 24;
    private static final int PRPSINFO_FNAME = 40;
    private static final int PRPSINFO_PSARGS = 56;

    private final ElfFile elf;
    private final String description;
    private final List<Segment> loads;
    private final List<CoreThread> threads = new ArrayList<>();
    private final List<MappedFile> files = new ArrayList<>();
    private final List<long[]> auxv = new ArrayList<>();
    /** Pages (address >>> 12) read from the core's own bytes, by every {@link CoreMemory} of this core. */
    private final java.util.Set<Long> touched = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private int pid;
    private String command = "";
    private String arguments = "";

    private CoreFile(ElfFile elf) throws ElfFormatException {
        this.elf = elf;
        this.description = elf.description();
        if (elf.type() != ElfFile.ET_CORE) {
            throw fail("not a core file (e_type " + elf.type() + ", a core is " + ElfFile.ET_CORE + ")");
        }
        this.loads = sortedLoads(elf.segments());
        try {
            for (Segment s : elf.segments()) {
                if (s.type() == Segment.PT_NOTE) {
                    readNotes(s);
                }
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            ElfFormatException x = fail("unexpected read past a checked bound in the notes: " + e);
            x.initCause(e);
            throw x;
        }
        if (threads.isEmpty()) {
            throw fail("no NT_PRSTATUS note: the core holds no thread registers");
        }
        if (pid == 0) {
            pid = threads.getFirst().tid();
        }
    }

    /** Opens a core file (mapped read-only, as {@link ElfFile#open}). */
    public static CoreFile open(Path path) throws IOException {
        ElfFile elf = ElfFile.open(path);
        try {
            return new CoreFile(elf);
        } catch (ElfFormatException | RuntimeException e) {
            elf.close();
            throw e;
        }
    }

    /** Parses a core held in memory. */
    public static CoreFile of(ByteBuffer bytes, String description) throws ElfFormatException {
        return new CoreFile(ElfFile.of(bytes, description));
    }

    public String description() {
        return description;
    }

    /** The dumped process's id (NT_PRPSINFO, else the first thread's). */
    public int pid() {
        return pid;
    }

    /** The command name (NT_PRPSINFO pr_fname, at most 15 characters), empty when the core has none. */
    public String command() {
        return command;
    }

    /** The start of the command line (NT_PRPSINFO pr_psargs, at most 80 characters). */
    public String arguments() {
        return arguments;
    }

    /** Threads in note order: the first is the one that dumped (or, for gcore, the one gdb had selected). */
    public List<CoreThread> threads() {
        return Collections.unmodifiableList(threads);
    }

    /** File mappings (NT_FILE), in note order. */
    public List<MappedFile> files() {
        return Collections.unmodifiableList(files);
    }

    /** The memory segments (PT_LOAD), sorted by address, none overlapping. */
    public List<Segment> loads() {
        return loads;
    }

    /** An auxiliary vector entry (NT_AUXV), if present. */
    public OptionalLong auxv(long type) {
        for (long[] e : auxv) {
            if (e[0] == type) {
                return OptionalLong.of(e[1]);
            }
        }
        return OptionalLong.empty();
    }

    /**
     * The process's mappings as {@code /proc/PID/maps} would have shown them: every NT_FILE mapping (with the
     * permissions of the PT_LOAD at its address; a mapping the core left out entirely, as gcore does with unmodified
     * code, takes them from the segment of the mapped file that {@code files} finds at that offset, else none), then
     * every PT_LOAD no file backs ({@code [vdso]} at AT_SYSINFO_EHDR, {@code [vsyscall]} at its fixed address).
     * Device and inode are not in a core: file mappings get inode 1 (file-backed), the others 0.
     */
    public List<Mapping> mappings(MappedFileSource files) {
        List<Mapping> out = new ArrayList<>(loads.size() + this.files.size());
        for (MappedFile f : this.files) {
            Segment s = loadAt(f.start());
            String perms = s != null ? perms(s.flags()) : perms(FileSegmentFlags.of(files, f));
            out.add(new Mapping(f.start(), f.end(), perms, f.offset(), 0, 0, 1, f.path()));
        }
        long vdso = auxv(AT_SYSINFO_EHDR).orElse(-1);
        for (Segment s : loads) {
            if (fileAt(s.vaddr()) != null) {
                continue;
            }
            String name = s.vaddr() == vdso ? "[vdso]" : s.vaddr() == VSYSCALL ? "[vsyscall]" : "";
            out.add(new Mapping(s.vaddr(), s.vaddr() + s.memsz(), perms(s.flags()), 0, 0, 0, 0, name));
        }
        out.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));
        return out;
    }

    /** x86_64's legacy vsyscall page. */
    static final long VSYSCALL = 0xffffffffff600000L;

    private static String perms(int flags) {
        return ((flags & Segment.PF_R) != 0 ? "r" : "-") + ((flags & Segment.PF_W) != 0 ? "w" : "-")
                + ((flags & Segment.PF_X) != 0 ? "x" : "-") + "p";
    }

    /** The PT_LOAD starting at {@code address}, or null. */
    private Segment loadAt(long address) {
        for (Segment s : loads) {
            if (s.vaddr() == address) {
                return s;
            }
        }
        return null;
    }

    /** The NT_FILE mapping holding {@code address}, or null. */
    public MappedFile fileAt(long address) {
        for (MappedFile f : files) {
            if (f.contains(address)) {
                return f;
            }
        }
        return null;
    }

    /** Pages read from the core's own memory bytes so far (page numbers: address >>> 12), for {@link CoreTrimmer}. */
    public java.util.Set<Long> touchedPages() {
        return java.util.Set.copyOf(touched);
    }

    void touched(long address, long length) {
        for (long p = address >>> 12; p <= (address + length - 1) >>> 12; p++) {
            touched.add(p);
        }
    }

    /** The PT_NOTE segments' bytes, in file order (a trimmed copy keeps them as they are). */
    List<ByteBuffer> noteBytes() throws ElfFormatException {
        List<ByteBuffer> out = new ArrayList<>();
        for (Segment s : elf.segments()) {
            if (s.type() == Segment.PT_NOTE) {
                out.add(elf.bytes(s.offset(), s.filesz(), "PT_NOTE"));
            }
        }
        return out;
    }

    /** The core's own bytes {@code [offset, offset+length)} (memory of a PT_LOAD segment). */
    ByteBuffer bytes(long offset, long length) throws ElfFormatException {
        return elf.bytes(offset, length, "PT_LOAD bytes");
    }

    /**
     * The dumped memory, with the bytes a core leaves out (file-backed segments written with no contents, as the
     * default coredump filter does for unmodified code) read from the mapped files {@code files} resolves.
     */
    public CoreMemory memory(MappedFileSource files) {
        return new CoreMemory(this, files);
    }

    @Override
    public void close() throws IOException {
        elf.close();
    }

    private List<Segment> sortedLoads(List<Segment> all) throws ElfFormatException {
        List<Segment> l = new ArrayList<>();
        for (Segment s : all) {
            if (!s.isLoad()) {
                continue;
            }
            if (s.memsz() != 0 && Long.compareUnsigned(s.vaddr() + s.memsz() - 1, s.vaddr()) < 0) {
                throw fail("PT_LOAD at 0x" + Long.toHexString(s.vaddr()) + " (size 0x" + Long.toHexString(s.memsz())
                        + ") wraps around the address space");
            }
            if (s.filesz() > 0) {
                elf.bytes(s.offset(), s.filesz(), "PT_LOAD at 0x" + Long.toHexString(s.vaddr()));
            }
            l.add(s);
        }
        l.sort((a, b) -> Long.compareUnsigned(a.vaddr(), b.vaddr()));
        for (int i = 1; i < l.size(); i++) {
            Segment prev = l.get(i - 1);
            Segment cur = l.get(i);
            if (Long.compareUnsigned(prev.vaddr() + prev.memsz(), cur.vaddr()) > 0) {
                throw fail("PT_LOAD [0x" + Long.toHexString(prev.vaddr()) + ", 0x"
                        + Long.toHexString(prev.vaddr() + prev.memsz()) + ") overlaps PT_LOAD at 0x"
                        + Long.toHexString(cur.vaddr()));
            }
        }
        return Collections.unmodifiableList(l);
    }

    private void readNotes(Segment s) throws ElfFormatException {
        if (s.filesz() > MAX_NOTE_BYTES) {
            throw fail("PT_NOTE of " + s.filesz() + " bytes exceeds the limit of " + MAX_NOTE_BYTES);
        }
        ByteBuffer b = elf.bytes(s.offset(), s.filesz(), "PT_NOTE");
        int pos = 0;
        int end = b.limit();
        while (end - pos >= 12) {
            long namesz = Integer.toUnsignedLong(b.getInt(pos));
            long descsz = Integer.toUnsignedLong(b.getInt(pos + 4));
            int type = b.getInt(pos + 8);
            long nameAt = pos + 12L;
            long descAt = nameAt + align4(namesz);
            long next = descAt + align4(descsz);
            if (next > end) {
                throw fail("note at offset " + pos + " of PT_NOTE (name " + namesz + " bytes, descriptor " + descsz
                        + " bytes) runs past the segment's " + end + " bytes");
            }
            String name = namesz == 0 ? "" : cString(b, (int) nameAt, (int) namesz);
            ByteBuffer desc = b.slice((int) descAt, (int) descsz).order(ByteOrder.LITTLE_ENDIAN);
            if (name.equals("CORE")) {
                note(type, desc);
            }
            pos = (int) next;
        }
    }

    private void note(int type, ByteBuffer d) throws ElfFormatException {
        switch (type) {
            case NT_PRSTATUS -> {
                if (d.limit() < PRSTATUS_BYTES) {
                    throw fail("NT_PRSTATUS of " + d.limit() + " bytes, an x86_64 one has " + PRSTATUS_BYTES);
                }
                if (threads.size() >= MAX_THREADS) {
                    throw fail("more than " + MAX_THREADS + " NT_PRSTATUS notes");
                }
                long[] regs = new long[CoreThread.REGISTER_WORDS];
                for (int i = 0; i < regs.length; i++) {
                    regs[i] = d.getLong(PRSTATUS_REGS + 8 * i);
                }
                threads.add(new CoreThread(d.getInt(PRSTATUS_PID), Short.toUnsignedInt(d.getShort(PRSTATUS_SIGNAL)),
                        regs));
            }
            case NT_PRPSINFO -> {
                if (d.limit() < PRPSINFO_BYTES) {
                    throw fail("NT_PRPSINFO of " + d.limit() + " bytes, an x86_64 one has " + PRPSINFO_BYTES);
                }
                pid = d.getInt(PRPSINFO_PID);
                command = cString(d, PRPSINFO_FNAME, 16);
                arguments = cString(d, PRPSINFO_PSARGS, 80).strip();
            }
            case NT_AUXV -> {
                if (d.limit() % 16 != 0 || d.limit() / 16 > MAX_AUXV) {
                    throw fail("NT_AUXV of " + d.limit() + " bytes (whole 16-byte entries, at most " + MAX_AUXV + ")");
                }
                auxv.clear();
                for (int i = 0; i + 16 <= d.limit(); i += 16) {
                    auxv.add(new long[] {d.getLong(i), d.getLong(i + 8)});
                }
            }
            case NT_FILE -> readFiles(d);
            default -> {
            }
        }
    }

    /** NT_FILE: count, page size, count x (start, end, page offset), then count NUL-terminated paths. */
    private void readFiles(ByteBuffer d) throws ElfFormatException {
        if (d.limit() < 16) {
            throw fail("NT_FILE of " + d.limit() + " bytes is too short for its header");
        }
        long count = d.getLong(0);
        long pageSize = d.getLong(8);
        if (count < 0 || count > MAX_FILES) {
            throw fail("NT_FILE counts " + Long.toUnsignedString(count) + " files, the limit is " + MAX_FILES);
        }
        if (pageSize <= 0 || pageSize > (1L << 30) || Long.bitCount(pageSize) != 1) {
            throw fail("NT_FILE page size " + Long.toUnsignedString(pageSize) + " is not a power of two up to 1 GiB");
        }
        long names = 16 + count * 24;
        if (names > d.limit()) {
            throw fail("NT_FILE's " + count + " entries need " + names + " bytes, the note has " + d.limit());
        }
        int pos = (int) names;
        for (int i = 0; i < count; i++) {
            long start = d.getLong(16 + 24 * i);
            long end = d.getLong(24 + 24 * i);
            long pgoff = d.getLong(32 + 24 * i);
            int nul = pos;
            while (nul < d.limit() && d.get(nul) != 0 && nul - pos <= MAX_PATH) {
                nul++;
            }
            if (nul >= d.limit() || nul - pos > MAX_PATH) {
                throw fail("NT_FILE path " + i + " is not NUL-terminated within " + MAX_PATH + " bytes of the note");
            }
            if (Long.compareUnsigned(end, start) <= 0) {
                throw fail("NT_FILE entry " + i + " has end 0x" + Long.toHexString(end) + " <= start 0x"
                        + Long.toHexString(start));
            }
            if (Long.compareUnsigned(pgoff, Long.divideUnsigned(-1L, pageSize)) > 0) {
                throw fail("NT_FILE entry " + i + " has a page offset that overflows");
            }
            byte[] p = new byte[nul - pos];
            d.get(pos, p);
            files.add(new MappedFile(start, end, pgoff * pageSize, new String(p, StandardCharsets.UTF_8)));
            pos = nul + 1;
        }
    }

    private static long align4(long n) {
        return (n + 3) & ~3L;
    }

    private static String cString(ByteBuffer b, int at, int max) {
        int n = 0;
        while (n < max && at + n < b.limit() && b.get(at + n) != 0) {
            n++;
        }
        byte[] s = new byte[n];
        b.get(at, s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private ElfFormatException fail(String reason) {
        return new ElfFormatException(description + ": " + reason);
    }
}
