package io.moonwalk.elf;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * An ELF64 little-endian file (x86_64). Headers are parsed eagerly and validated; section bytes,
 * symbols and notes are read on demand from a read-only memory mapping (or from the caller's
 * buffer), so heap use does not scale with the file size.
 *
 * <p>The input is treated as hostile: every offset and size taken from the file is bounds-checked,
 * counts are capped, and any inconsistency surfaces as an {@link ElfFormatException} naming the
 * file and the structure at fault. Not thread-safe for concurrent {@link #close()}.
 */
public final class ElfFile implements AutoCloseable {
    public static final int ET_REL = 1;
    public static final int ET_EXEC = 2;
    public static final int ET_DYN = 3;
    public static final int ET_CORE = 4;

    public static final int EM_X86_64 = 62;
    public static final int EM_AARCH64 = 183;

    /** Returned by {@link #fileOffsetToVaddr(long)} when no PT_LOAD segment holds the offset. */
    public static final long NO_VADDR = -1;

    private static final int EHDR_SIZE = 64;
    private static final int SHDR_SIZE = 64;
    private static final int PHDR_SIZE = 56;
    private static final int SYM_SIZE = 24;
    // Real binaries have tens of sections; object files built with -ffunction-sections can have
    // many thousands. Beyond these the file is garbage or an attack on our heap.
    private static final int MAX_SECTIONS = 1 << 18;
    private static final int MAX_SEGMENTS = 1 << 16;
    private static final int MAX_NAME_LENGTH = 1 << 15;
    private static final int MAX_BUILD_ID = 64;
    private static final int SHN_UNDEF = 0;
    private static final int SHN_LORESERVE = 0xff00;
    private static final int SHN_XINDEX = 0xffff;
    private static final int PN_XNUM = 0xffff;
    private static final int NT_GNU_BUILD_ID = 3;

    private final String description;
    private final FileChannel channel;
    private final ByteBuffer whole;
    private final long size;
    private final int type;
    private final int machine;
    private final long entry;
    private final List<Section> sections;
    private final List<Segment> segments;

    private ElfFile(String description, FileChannel channel, ByteBuffer whole, long size) throws ElfFormatException {
        this.description = description;
        this.channel = channel;
        this.whole = whole;
        this.size = size;
        try {
            ByteBuffer h = slice(0, EHDR_SIZE, "ELF header");
            checkIdent(h);
            this.type = Short.toUnsignedInt(h.getShort(16));
            this.machine = Short.toUnsignedInt(h.getShort(18));
            if (machine != EM_X86_64) {
                throw fail("unsupported machine " + machine + " (only x86_64 = " + EM_X86_64 + " is supported)");
            }
            this.entry = h.getLong(24);
            long phoff = h.getLong(32);
            long shoff = h.getLong(40);
            int phentsize = Short.toUnsignedInt(h.getShort(54));
            int phnum = Short.toUnsignedInt(h.getShort(56));
            int shentsize = Short.toUnsignedInt(h.getShort(58));
            long shnum = Short.toUnsignedInt(h.getShort(60));
            int shstrndx = Short.toUnsignedInt(h.getShort(62));

            ByteBuffer sh0 = null;
            if (shoff != 0) {
                if (shentsize != SHDR_SIZE) {
                    throw fail("e_shentsize is " + shentsize + ", expected " + SHDR_SIZE);
                }
                sh0 = slice(shoff, SHDR_SIZE, "section header 0");
                // Extended numbering: counts that overflow 16 bits live in section header 0.
                if (shnum == 0) {
                    shnum = sh0.getLong(32);
                }
                if (shstrndx == SHN_XINDEX) {
                    shstrndx = sh0.getInt(40);
                }
            } else {
                shnum = 0;
            }
            if (phnum == PN_XNUM && sh0 != null) {
                phnum = sh0.getInt(44);
            }
            this.segments = readSegments(phoff, phentsize, phnum);
            this.sections = readSections(shoff, shnum, shstrndx);
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw missingCheck("", e);
        } catch (InternalError e) {
            throw fail("file changed while being read: " + e.getMessage());
        }
    }

    /** Opens and maps a file; the file must be a regular file (never blocks on a FIFO or device). */
    public static ElfFile open(Path path) throws IOException {
        // readAttributes, not isRegularFile: a refused stat (EPERM/EACCES on /proc/PID/map_files without
        // CAP_CHECKPOINT_RESTORE or CAP_DAC_READ_SEARCH) must surface as that error, not as "not a regular file"
        if (!Files.readAttributes(path, BasicFileAttributes.class).isRegularFile()) {
            throw new ElfFormatException(path + ": not a regular file");
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return open(ch, path.toString());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Parses an open channel. The ElfFile takes ownership and closes the channel on {@link #close()}. */
    public static ElfFile open(FileChannel channel, String description) throws IOException {
        long size = channel.size();
        if (size < EHDR_SIZE) {
            throw new ElfFormatException(description + ": " + size + " bytes, too short for an ELF header");
        }
        // Files up to 2 GiB get one mapping; larger ones (huge debug files) are mapped per request.
        ByteBuffer whole = size <= Integer.MAX_VALUE
                ? channel.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN)
                : null;
        return new ElfFile(description, channel, whole, size);
    }

    /** Parses an ELF image held in memory (e.g. a vDSO copied out of a process). */
    public static ElfFile of(ByteBuffer bytes, String description) throws ElfFormatException {
        ByteBuffer copy = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (copy.remaining() < EHDR_SIZE) {
            throw new ElfFormatException(description + ": " + copy.remaining() + " bytes, too short for an ELF header");
        }
        return new ElfFile(description, null, copy, copy.remaining());
    }

    private void checkIdent(ByteBuffer h) throws ElfFormatException {
        if (h.get(0) != 0x7f || h.get(1) != 'E' || h.get(2) != 'L' || h.get(3) != 'F') {
            throw fail("no ELF magic");
        }
        if (h.get(4) != 2) {
            throw fail("not ELF64 (EI_CLASS=" + h.get(4) + ")");
        }
        if (h.get(5) != 1) {
            throw fail("not little-endian (EI_DATA=" + h.get(5) + ")");
        }
        if (h.get(6) != 1) {
            throw fail("unknown ELF version " + h.get(6));
        }
    }

    private List<Segment> readSegments(long phoff, int phentsize, int phnum) throws ElfFormatException {
        if (phnum == 0 || phoff == 0) {
            return List.of();
        }
        if (phentsize != PHDR_SIZE) {
            throw fail("e_phentsize is " + phentsize + ", expected " + PHDR_SIZE);
        }
        if (phnum < 0 || phnum > MAX_SEGMENTS) {
            throw fail(Integer.toUnsignedString(phnum) + " program headers exceeds the limit of " + MAX_SEGMENTS);
        }
        ByteBuffer t = slice(phoff, (long) phnum * PHDR_SIZE, "program header table");
        List<Segment> out = new ArrayList<>(phnum);
        for (int i = 0; i < phnum; i++) {
            int b = i * PHDR_SIZE;
            Segment s = new Segment(t.getInt(b), t.getInt(b + 4), t.getLong(b + 8), t.getLong(b + 16),
                    t.getLong(b + 24), t.getLong(b + 32), t.getLong(b + 40), t.getLong(b + 48));
            if (s.offset() < 0 || s.filesz() < 0 || s.offset() + s.filesz() < 0) {
                throw fail("program header " + i + " has an offset/size that overflows");
            }
            if (s.isLoad() && Long.compareUnsigned(s.filesz(), s.memsz()) > 0) {
                throw fail("PT_LOAD " + i + " has filesz > memsz");
            }
            out.add(s);
        }
        return Collections.unmodifiableList(out);
    }

    private List<Section> readSections(long shoff, long shnum, int shstrndx) throws ElfFormatException {
        if (shnum == 0) {
            return List.of();
        }
        if (shnum < 0 || shnum > MAX_SECTIONS) {
            throw fail(Long.toUnsignedString(shnum) + " sections exceeds the limit of " + MAX_SECTIONS);
        }
        int n = (int) shnum;
        ByteBuffer t = slice(shoff, (long) n * SHDR_SIZE, "section header table");
        if (shstrndx != SHN_UNDEF && (shstrndx < 0 || shstrndx >= n)) {
            throw fail("e_shstrndx " + Integer.toUnsignedString(shstrndx) + " is out of range (" + n + " sections)");
        }
        ByteBuffer names = null;
        if (shstrndx != SHN_UNDEF) {
            int b = shstrndx * SHDR_SIZE;
            if (t.getInt(b + 4) == Section.SHT_NOBITS) {
                throw fail("section name table #" + shstrndx + " has no file data");
            }
            names = slice(t.getLong(b + 24), t.getLong(b + 32), "section name table");
        }
        StringTableReader nameReader = names == null ? null : new StringTableReader(names, MAX_NAME_LENGTH);
        List<Section> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int b = i * SHDR_SIZE;
            int nameOff = t.getInt(b);
            String name = nameReader == null ? "" : nameReader.name(nameOff, "section " + i + " name", this::fail);
            out.add(new Section(this, i, name, t.getInt(b + 4), t.getLong(b + 8), t.getLong(b + 16),
                    t.getLong(b + 24), t.getLong(b + 32), t.getInt(b + 40), t.getInt(b + 44),
                    t.getLong(b + 48), t.getLong(b + 56)));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * A read-only little-endian view of the file's bytes {@code [off, off+len)} (e.g. a core file's notes and
     * memory), after checking they lie inside the file; {@code what} names them in the error.
     */
    public ByteBuffer bytes(long off, long len, String what) throws ElfFormatException {
        return slice(off, len, what);
    }

    /** A little-endian view of {@code [off, off+len)}, after checking it lies inside the file. */
    ByteBuffer slice(long off, long len, String what) throws ElfFormatException {
        if (off < 0 || len < 0 || off > size || len > size - off) {
            throw fail(what + " [0x" + Long.toHexString(off) + ", +0x" + Long.toHexString(len)
                    + ") lies outside the file (size 0x" + Long.toHexString(size) + ")");
        }
        if (len > Integer.MAX_VALUE) {
            throw fail(what + " is larger than 2 GiB");
        }
        if (whole != null) {
            return whole.slice((int) off, (int) len).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, off, len).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw fail("cannot map " + what + ": " + e.getMessage());
        }
    }

    /**
     * The safety net: a read went out of bounds that an explicit check should have refused. Still a
     * clean refusal for the caller, but the cause is kept so tests and fuzzing can tell a missing
     * check from a deliberate one.
     */
    private ElfFormatException missingCheck(String where, RuntimeException e) {
        ElfFormatException x = fail("unexpected read past a checked bound" + where + ": " + e);
        x.initCause(e);
        return x;
    }

    private ElfFormatException fail(String reason) {
        return new ElfFormatException(description + ": " + reason);
    }

    public String description() { return description; }
    public long size() { return size; }
    /** e_type: {@link #ET_EXEC}, {@link #ET_DYN}, ... */
    public int type() { return type; }
    public boolean isExecutable() { return type == ET_EXEC; }
    public boolean isSharedObject() { return type == ET_DYN; }
    /** e_machine; today always {@link #EM_X86_64}. */
    public int machine() { return machine; }
    public long entry() { return entry; }
    public List<Section> sections() { return sections; }
    public List<Segment> segments() { return segments; }

    public List<Segment> loadSegments() {
        return segments.stream().filter(Segment::isLoad).toList();
    }

    /** The first section with this name. */
    public Optional<Section> section(String name) {
        for (Section s : sections) {
            if (s.name().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** Maps a file offset to the ELF virtual address it is loaded at, or {@link #NO_VADDR}. */
    public long fileOffsetToVaddr(long off) {
        for (Segment s : segments) {
            if (s.isLoad() && s.containsFileOffset(off)) {
                return s.vaddr() + (off - s.offset());
            }
        }
        return NO_VADDR;
    }

    /**
     * The code symbols of one table: STT_FUNC and STT_GNU_IFUNC, and STT_NOTYPE symbols defined in
     * an executable section. Undefined and nameless symbols are dropped. Empty when the table is absent.
     */
    public List<ElfSymbol> functionSymbols(SymbolSource source) throws ElfFormatException {
        int wanted = source == SymbolSource.SYMTAB ? Section.SHT_SYMTAB : Section.SHT_DYNSYM;
        Section table = null;
        for (Section s : sections) {
            if (s.type() == wanted) {
                table = s;
                break;
            }
        }
        if (table == null) {
            return List.of();
        }
        try {
            return readSymbols(table, source == SymbolSource.DYNSYM);
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw missingCheck(" in " + table.name(), e);
        } catch (InternalError e) {
            throw fail("file changed while being read: " + e.getMessage());
        }
    }

    private List<ElfSymbol> readSymbols(Section table, boolean dynamic) throws ElfFormatException {
        if (table.entsize() != SYM_SIZE) {
            throw fail(table.name() + ": sh_entsize " + table.entsize() + ", expected " + SYM_SIZE);
        }
        if (table.link() <= 0 || table.link() >= sections.size()) {
            throw fail(table.name() + ": sh_link " + Integer.toUnsignedString(table.link())
                    + " does not name a section");
        }
        Section strSection = sections.get(table.link());
        if (strSection.type() != Section.SHT_STRTAB) {
            throw fail(table.name() + ": linked section " + strSection.name() + " is not a string table");
        }
        ByteBuffer syms = table.data();
        StringTableReader strs = new StringTableReader(strSection.data(), MAX_NAME_LENGTH);
        int count = syms.limit() / SYM_SIZE;
        List<ElfSymbol> out = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            int b = i * SYM_SIZE;
            int info = Byte.toUnsignedInt(syms.get(b + 4));
            int symType = info & 0xf;
            int bind = info >>> 4;
            int shndx = Short.toUnsignedInt(syms.getShort(b + 6));
            if (shndx == SHN_UNDEF) {
                continue;
            }
            boolean code;
            if (symType == ElfSymbol.STT_FUNC || symType == ElfSymbol.STT_GNU_IFUNC) {
                code = true;
            } else if (symType == ElfSymbol.STT_NOTYPE) {
                code = shndx < SHN_LORESERVE && shndx < sections.size() && sections.get(shndx).isExecutable();
            } else {
                code = false;
            }
            if (!code) {
                continue;
            }
            int nameOff = syms.getInt(b);
            if (nameOff == 0) {
                continue;
            }
            String name = strs.name(nameOff, table.name() + " symbol " + i, this::fail);
            if (name.isEmpty()) {
                continue;
            }
            out.add(new ElfSymbol(name, syms.getLong(b + 8), syms.getLong(b + 16), symType, bind, shndx, dynamic));
        }
        return out;
    }

    /**
     * The GNU build ID as lowercase hex, from a PT_NOTE segment or else from a SHT_NOTE section.
     */
    public Optional<String> buildId() throws ElfFormatException {
        try {
            for (Segment s : segments) {
                if (s.type() == Segment.PT_NOTE) {
                    ByteBuffer notes = slice(s.offset(), s.filesz(), "PT_NOTE segment");
                    Optional<String> id = findBuildId(notes, s.align() == 8 ? 8 : 4);
                    if (id.isPresent()) {
                        return id;
                    }
                }
            }
            for (Section s : sections) {
                if (s.type() == Section.SHT_NOTE) {
                    Optional<String> id = findBuildId(s.data(), s.addralign() == 8 ? 8 : 4);
                    if (id.isPresent()) {
                        return id;
                    }
                }
            }
            return Optional.empty();
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw missingCheck(" in notes", e);
        } catch (InternalError e) {
            throw fail("file changed while being read: " + e.getMessage());
        }
    }

    private Optional<String> findBuildId(ByteBuffer notes, int align) throws ElfFormatException {
        long pos = 0;
        long limit = notes.limit();
        // Each note consumes at least its 12-byte header, so the loop ends.
        while (limit - pos >= 12) {
            int p = (int) pos;
            long namesz = Integer.toUnsignedLong(notes.getInt(p));
            long descsz = Integer.toUnsignedLong(notes.getInt(p + 4));
            int noteType = notes.getInt(p + 8);
            long nameStart = pos + 12;
            // Offsets align relative to the note area, which matters for 8-byte aligned notes.
            long descStart = alignUp(nameStart + namesz, align);
            long next = alignUp(descStart + descsz, align);
            if (descStart > limit || descsz > limit - descStart) {
                throw fail("note at offset " + pos + " runs past the end of its note area");
            }
            if (noteType == NT_GNU_BUILD_ID && namesz == 4 && notes.get((int) nameStart) == 'G'
                    && notes.get((int) nameStart + 1) == 'N' && notes.get((int) nameStart + 2) == 'U'
                    && notes.get((int) nameStart + 3) == 0) {
                if (descsz == 0 || descsz > MAX_BUILD_ID) {
                    throw fail("GNU build-id note has implausible length " + descsz);
                }
                byte[] id = new byte[(int) descsz];
                notes.get((int) descStart, id);
                return Optional.of(HexFormat.of().formatHex(id));
            }
            pos = next;
        }
        return Optional.empty();
    }

    private static long alignUp(long v, int align) {
        return (v + align - 1) & -align;
    }

    /** The {@code .gnu_debuglink} file name and CRC, when present. */
    public Optional<DebugLink> debugLink() throws ElfFormatException {
        Optional<Section> s = section(".gnu_debuglink");
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            ByteBuffer d = s.get().data();
            int end = 0;
            while (end < d.limit() && d.get(end) != 0) {
                end++;
            }
            if (end == 0 || end == d.limit()) {
                throw fail(".gnu_debuglink: file name missing or unterminated");
            }
            int crcOff = (int) alignUp(end + 1, 4);
            if (crcOff + 4L > d.limit()) {
                throw fail(".gnu_debuglink: too short for its CRC");
            }
            byte[] name = new byte[end];
            d.get(0, name);
            return Optional.of(new DebugLink(new String(name, StandardCharsets.UTF_8), d.getInt(crcOff)));
        } catch (InternalError e) {
            throw fail("file changed while being read: " + e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "ElfFile[" + description + "]";
    }
}
