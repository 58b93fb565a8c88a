package io.moonwalk.agent.store;

import io.moonwalk.agent.output.AtomicFileWriter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The store's index file: one line per stored window with its {@link WindowSummary}, appended
 * when the window is written, so an agent restart on a full 24 h store reads one small file
 * instead of decompressing every window (17,280 of them at the default 5 s interval).
 *
 * <p>Lines of evicted windows stay in the file until they outnumber half the live ones; then the
 * file is rewritten (atomically) from the live summaries. The file is therefore at most 1.5 times
 * the live lines, and during a rewrite at most 2.5 times; the store charges each window
 * {@value #CHARGE} times its line so the directory stays within its size bound.
 *
 * <p>Line format (tab-separated, version in the first line {@value #HEADER}):
 * {@code start  duration  samples  bytes  pid:samples:command,...  state:samples,...
 * vm:traces:mcode:maxmcode:flushes,...  vm:count:reason:site,...}, where command, state, vm, reason and site are
 * %-escaped (the last two fields may be absent; the trace-abort sites need the VM field, empty or not). The index is a cache of the windows, never the truth: a line
 * that does not parse is skipped (counted), and a window file without a line is read once and
 * indexed.
 */
final class StoreIndex {
    static final String FILE = "index-v1.tsv";
    static final String HEADER = "moonwalk-store-index\t1";
    static final int CHARGE = 3;
    /** A line longer than this is not ours (16 processes with 255-byte names fit easily). */
    static final int MAX_LINE = 64 * 1024;

    private final Path file;
    private final String header;
    private long liveLines;
    private long deadLines;
    private long skippedLines;
    private final Map<String, String> interned = new HashMap<>();

    StoreIndex(Path dir) {
        this(dir, ProfileKind.CPU);
    }

    /**
     * The index of a store of {@code kind}: the CPU one keeps the file and header of older agents, the others name
     * their sample type and unit in the header ({@code moonwalk-store-index 1 off_cpu nanoseconds}).
     */
    StoreIndex(Path dir, ProfileKind kind) {
        this.file = dir.resolve(kind.indexFile());
        this.header = kind == ProfileKind.CPU ? HEADER
                : HEADER + "\t" + kind.sampleType().type() + "\t" + kind.sampleType().unit();
    }

    Path file() {
        return file;
    }

    /** Feeds every summary the file holds to {@code sink}; a missing file is an empty index. */
    void read(Consumer<WindowSummary> sink) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line = r.readLine();
            if (!header.equals(line)) {
                skippedLines++;
                return; // another version or not ours: rebuilt from the windows
            }
            while ((line = r.readLine()) != null) {
                WindowSummary s = line.length() > MAX_LINE ? null : parse(line);
                if (s == null) {
                    skippedLines++;
                } else {
                    sink.accept(s);
                }
            }
        } catch (NoSuchFileException e) {
            // first start, or an older store: every window gets indexed from its file
        } finally {
            interned.clear();
        }
    }

    /** Bytes the store charges for one window's line (see the class comment). */
    static long charge(WindowSummary s) {
        return (long) CHARGE * (format(s).length() + 1);
    }

    void append(WindowSummary s) throws IOException {
        if (!Files.exists(file)) {
            rewrite(java.util.List.of(s));
            return;
        }
        Files.writeString(file, format(s) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        liveLines++;
    }

    /** A window's line is now dead; rewrites the file when dead lines outnumber half the live ones. */
    void removed(Collection<WindowSummary> live) throws IOException {
        deadLines++;
        liveLines = live.size();
        if (deadLines * 2 > liveLines) {
            rewrite(live);
        }
    }

    void rewrite(Collection<WindowSummary> live) throws IOException {
        AtomicFileWriter.write(file, (OutputStream out) -> {
            StringBuilder sb = new StringBuilder(header.length() + 1 + 128 * live.size());
            sb.append(header).append('\n');
            for (WindowSummary s : live) {
                sb.append(format(s)).append('\n');
            }
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        });
        liveLines = live.size();
        deadLines = 0;
    }

    long skippedLines() {
        return skippedLines;
    }

    static String format(WindowSummary s) {
        StringBuilder sb = new StringBuilder(128);
        sb.append(s.startMillis()).append('\t').append(s.durationMillis()).append('\t').append(s.samples())
                .append('\t').append(s.bytes()).append('\t');
        boolean first = true;
        for (var p : s.processes().entrySet()) {
            sb.append(first ? "" : ",").append(p.getKey()).append(':').append(p.getValue().samples()).append(':')
                    .append(escape(p.getValue().command()));
            first = false;
        }
        sb.append('\t');
        first = true;
        for (var v : s.vmStates().entrySet()) {
            sb.append(first ? "" : ",").append(escape(v.getKey())).append(':')
                    .append(v.getValue());
            first = false;
        }
        if (!s.vms().isEmpty()) {
            sb.append('\t');
            first = true;
            for (WindowSummary.VmHealth v : s.vms()) {
                sb.append(first ? "" : ",").append(escape(v.vm()));
                for (float x : new float[] {v.traces(), v.mcodeBytes(), v.maxMcodeBytes(), v.flushes()}) {
                    sb.append(':');
                    if (x == Math.rint(x)) {
                        sb.append((long) x);
                    } else {
                        sb.append(x);
                    }
                }
                first = false;
            }
        }
        if (!s.aborts().isEmpty()) {
            if (s.vms().isEmpty()) {
                sb.append('\t');
            }
            sb.append('\t');
            first = true;
            for (WindowSummary.AbortSite a : s.aborts()) {
                sb.append(first ? "" : ",").append(escape(a.vm())).append(':').append(a.count()).append(':')
                        .append(escape(a.reason())).append(':').append(escape(a.site()));
                first = false;
            }
        }
        return sb.toString();
    }

    /**
     * %-escapes what would break a line's structure (separators, line breaks, %, + and space, which
     * the URL decoder reads as a space) and nothing else, so common names are written as they are.
     */
    static String escape(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean special = c < 0x20 || c == 0x7f || c == '%' || c == ',' || c == '=' || c == ':' || c == '+' || c == ' ';
            if (special && sb == null) {
                sb = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (sb != null) {
                if (special) {
                    sb.append('%').append(Character.forDigit(c >> 4 & 0xf, 16)).append(Character.forDigit(c & 0xf, 16));
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? s : sb.toString();
    }

    /** URL-decodes, skipping the decoder for the common text that has nothing encoded. */
    private static String decode(String s) {
        return s.indexOf('%') < 0 && s.indexOf('+') < 0 ? s : URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** The summary on {@code line}, or null when it is not a well-formed index line. */
    WindowSummary parse(String line) {
        String[] f = line.split("\t", -1);
        if (f.length < 6 || f.length > 8) {
            return null;
        }
        try {
            long start = Long.parseLong(f[0]);
            long duration = Long.parseLong(f[1]);
            long samples = Long.parseLong(f[2]);
            long bytes = Long.parseLong(f[3]);
            if (start < 0 || duration <= 0 || samples < 0 || bytes < 0) {
                return null;
            }
            Map<Integer, WindowSummary.ProcessSamples> procs = new HashMap<>();
            if (!f[4].isEmpty()) {
                String[] ps = f[4].split(",");
                if (ps.length > WindowSummary.MAX_PROCESSES) {
                    return null;
                }
                for (String p : ps) {
                    String[] parts = p.split(":", 3);
                    if (parts.length != 3) {
                        return null;
                    }
                    String command = decode(parts[2]);
                    procs.put(Integer.parseInt(parts[0]), new WindowSummary.ProcessSamples(
                            interned.computeIfAbsent(command, c -> c), Long.parseLong(parts[1])));
                }
            }
            Map<String, Long> states = new HashMap<>();
            if (!f[5].isEmpty()) {
                String[] vs = f[5].split(",");
                if (vs.length > WindowSummary.MAX_VM_STATES) {
                    return null;
                }
                for (String v : vs) {
                    int colon = v.lastIndexOf(':');
                    if (colon <= 0) {
                        return null;
                    }
                    String state = decode(v.substring(0, colon));
                    states.put(interned.computeIfAbsent(state, c -> c), Long.parseLong(v.substring(colon + 1)));
                }
            }
            List<WindowSummary.VmHealth> vms = new ArrayList<>();
            if (f.length >= 7 && !f[6].isEmpty()) {
                String[] vs = f[6].split(",");
                if (vs.length > WindowSummary.MAX_VMS) {
                    return null;
                }
                for (String v : vs) {
                    String[] x = v.split(":", -1);
                    if (x.length != 5 || x[0].isEmpty()) {
                        return null;
                    }
                    float[] n = new float[4];
                    for (int i = 0; i < 4; i++) {
                        n[i] = Float.parseFloat(x[i + 1]);
                        if (!Float.isFinite(n[i])) {
                            return null;
                        }
                    }
                    vms.add(new WindowSummary.VmHealth(interned.computeIfAbsent(decode(x[0]), c -> c), n[0], n[1], n[2], n[3]));
                }
            }
            List<WindowSummary.AbortSite> aborts = new ArrayList<>();
            if (f.length == 8 && !f[7].isEmpty()) {
                String[] as = f[7].split(",");
                if (as.length > WindowSummary.MAX_ABORT_SITES) {
                    return null;
                }
                for (String a : as) {
                    String[] x = a.split(":", -1);
                    long count = x.length == 4 ? Long.parseLong(x[1]) : -1;
                    if (count < 0 || x[0].isEmpty() || x[3].isEmpty()) {
                        return null;
                    }
                    aborts.add(new WindowSummary.AbortSite(interned.computeIfAbsent(decode(x[0]), c -> c), decode(x[3]),
                            interned.computeIfAbsent(decode(x[2]), c -> c), count));
                }
            }
            return new WindowSummary(start, duration, samples, procs, states, bytes, vms, aborts);
        } catch (IllegalArgumentException e) { // NumberFormatException, bad %-escape
            return null;
        }
    }
}
