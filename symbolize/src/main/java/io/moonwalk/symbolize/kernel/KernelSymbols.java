package io.moonwalk.symbolize.kernel;

import io.moonwalk.elf.UnsignedSearch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable, address-sorted snapshot of the kernel's text symbols (types t, T, w, W) from
 * {@code /proc/kallsyms}, including module symbols. Modules come and go: call {@link #reload()} to
 * get a fresh snapshot and swap it in. {@link #lookup(long)} allocates nothing.
 *
 * <p>kallsyms has no sizes, so an address resolves to the nearest preceding symbol; the last
 * symbol covers at most {@link #LAST_SYMBOL_SPAN} bytes so that addresses past the end of kernel
 * text are not blamed on it.
 */
public final class KernelSymbols {
    public static final Path KALLSYMS = Path.of("/proc/kallsyms");
    public static final long LAST_SYMBOL_SPAN = 64 * 1024;

    private final Path source;
    private final long[] addresses;
    private final int[] nameOffsets;
    private final byte[] names;
    private final short[] moduleIndex;
    private final String[] modules;
    /** Per module (index 0: the kernel image), the first symbol's address and the end of the last symbol's span. */
    private final long[] moduleStarts;
    private final long[] moduleLimits;

    private KernelSymbols(Path source, long[] addresses, int[] nameOffsets, byte[] names, short[] moduleIndex,
                          String[] modules) {
        this.source = source;
        this.addresses = addresses;
        this.nameOffsets = nameOffsets;
        this.names = names;
        this.moduleIndex = moduleIndex;
        this.modules = modules;
        this.moduleStarts = new long[modules.length];
        this.moduleLimits = new long[modules.length];
        java.util.Arrays.fill(moduleStarts, -1L);
        for (int i = 0; i < addresses.length; i++) {
            int m = moduleIndex[i];
            if (Long.compareUnsigned(addresses[i], moduleStarts[m]) < 0) {
                moduleStarts[m] = addresses[i];
            }
            long end = addresses[i] + LAST_SYMBOL_SPAN;
            if (Long.compareUnsigned(end, moduleLimits[m]) > 0) {
                moduleLimits[m] = end;
            }
        }
    }

    /** Reads {@code /proc/kallsyms}. */
    public static KernelSymbols load() throws IOException {
        return load(KALLSYMS);
    }

    public static KernelSymbols load(Path path) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(path, StandardCharsets.ISO_8859_1)) {
            return parse(r, path, KallsymsAccess.ofThisProcess());
        }
    }

    /** A fresh snapshot from the same source, e.g. after modules were loaded or unloaded. */
    public KernelSymbols reload() throws IOException {
        return load(source);
    }

    /** Parses kallsyms text; {@code source} is only used for messages and {@link #reload()}. */
    public static KernelSymbols parse(String text, Path source) throws IOException {
        return parse(text, source, KallsymsAccess.ofThisProcess());
    }

    /** Same, with the facts that explain hidden addresses given (tests). */
    static KernelSymbols parse(String text, Path source, KallsymsAccess access) throws IOException {
        return parse(new BufferedReader(new StringReader(text)), source, access);
    }

    private record Entry(long address, String name, int module) {
    }

    private static KernelSymbols parse(BufferedReader r, Path source, KallsymsAccess access) throws IOException {
        List<Entry> entries = new ArrayList<>(1 << 16);
        Map<String, Integer> moduleIds = new HashMap<>();
        List<String> moduleNames = new ArrayList<>();
        moduleNames.add(null); // index 0: the kernel image itself
        int lines = 0;
        boolean anyNonZero = false;
        String line;
        while ((line = r.readLine()) != null) {
            lines++;
            // "ffffffff821f8be0 T schedule" or "ffffffffc0201000 t sym\t[module]"
            int sp1 = line.indexOf(' ');
            if (sp1 <= 0 || sp1 + 3 > line.length() || line.charAt(sp1 + 2) != ' ') {
                continue;
            }
            char type = line.charAt(sp1 + 1);
            if (sp1 > 16 || !isHex(line, sp1)) {
                continue;
            }
            long address = parseHex(line, sp1);
            if (address != 0) {
                anyNonZero = true;
            }
            if (type != 't' && type != 'T' && type != 'w' && type != 'W') {
                continue;
            }
            int nameStart = sp1 + 3;
            int tab = line.indexOf('\t', nameStart);
            String name = tab < 0 ? line.substring(nameStart) : line.substring(nameStart, tab);
            int module = 0;
            if (tab >= 0) {
                int open = line.indexOf('[', tab);
                int close = line.lastIndexOf(']');
                if (open >= 0 && close > open) {
                    String m = line.substring(open + 1, close);
                    Integer id = moduleIds.get(m);
                    if (id == null) {
                        if (moduleNames.size() >= Short.MAX_VALUE) {
                            throw new IOException(source + ": more than " + Short.MAX_VALUE + " modules");
                        }
                        id = moduleNames.size();
                        moduleIds.put(m, id);
                        moduleNames.add(m);
                    }
                    module = id;
                }
            }
            if (!name.isEmpty() && address != 0) {
                entries.add(new Entry(address, name, module));
            }
        }
        if (lines == 0) {
            throw new KallsymsUnavailableException(KallsymsAccess.explainEmpty(source));
        }
        if (!anyNonZero) {
            throw new KallsymsUnavailableException(access.explainZeroAddresses(source));
        }
        if (entries.isEmpty()) {
            throw new KallsymsUnavailableException(source + ": no text symbols found (" + lines + " lines read)");
        }
        entries.sort((a, b) -> Long.compareUnsigned(a.address(), b.address()));
        int n = entries.size();
        long[] addresses = new long[n];
        int[] nameOffsets = new int[n + 1];
        short[] moduleIndex = new short[n];
        StringBuilder blob = new StringBuilder(n * 16);
        for (int i = 0; i < n; i++) {
            Entry e = entries.get(i);
            addresses[i] = e.address();
            nameOffsets[i] = blob.length();
            blob.append(e.name());
            moduleIndex[i] = (short) e.module();
        }
        nameOffsets[n] = blob.length();
        // Names came in as ISO-8859-1, so one char is one byte.
        byte[] names = blob.toString().getBytes(StandardCharsets.ISO_8859_1);
        return new KernelSymbols(source, addresses, nameOffsets, names, moduleIndex, moduleNames.toArray(new String[0]));
    }

    private static boolean isHex(String s, int end) {
        for (int i = 0; i < end; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    private static long parseHex(String s, int end) {
        long v = 0;
        for (int i = 0; i < end; i++) {
            v = (v << 4) | Character.digit(s.charAt(i), 16);
        }
        return v;
    }

    /** Index of the symbol containing {@code address}, or -1. */
    public int lookup(long address) {
        int found = UnsignedSearch.floor(addresses, address); // last start <= address, or -1
        if (found == addresses.length - 1 && Long.compareUnsigned(address - addresses[found], LAST_SYMBOL_SPAN) >= 0) {
            return -1;
        }
        return found;
    }

    /** Convenience: the name of the symbol containing {@code address}, or null. */
    public String nameAt(long address) {
        int i = lookup(address);
        return i < 0 ? null : name(i);
    }

    public int size() {
        return addresses.length;
    }

    public long address(int index) {
        return addresses[index];
    }

    public String name(int index) {
        int from = nameOffsets[index];
        return new String(names, from, nameOffsets[index + 1] - from, StandardCharsets.ISO_8859_1);
    }

    /** The module the symbol belongs to, or null for the kernel image. */
    public String module(int index) {
        return modules[moduleIndex[index]];
    }

    /**
     * Where the module (or kernel image) of symbol {@code index} lies: its first symbol's address. Together with
     * {@link #moduleLimit} the extent pprof and OTLP mappings report for kernel frames.
     */
    public long moduleStart(int index) {
        return moduleStarts[moduleIndex[index]];
    }

    /** The end of the module of symbol {@code index}: {@link #LAST_SYMBOL_SPAN} past its last symbol. */
    public long moduleLimit(int index) {
        return moduleLimits[moduleIndex[index]];
    }
}
