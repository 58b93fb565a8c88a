package io.moonwalk.testfixtures;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the real binutils/gcc and parses their output: the ground truth for the ELF tests. */
public final class Tools {
    private Tools() {
    }

    public static String run(Path dir, String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            if (dir != null) {
                pb.directory(dir.toFile());
            }
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", cmd));
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd[0] + " (is it installed?): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** One defined symbol as nm prints it. */
    public record NmSymbol(long value, long size, char type, String name) {
    }

    /** {@code nm --defined-only -S [-D]}; symbol versions ({@code @@GLIBC_2.2.5}) are removed. */
    public static List<NmSymbol> nm(Path file, boolean dynamic) {
        String out = dynamic ? run(null, "nm", "--defined-only", "-S", "-D", file.toString())
                : run(null, "nm", "--defined-only", "-S", file.toString());
        List<NmSymbol> syms = new ArrayList<>();
        for (String line : out.split("\n")) {
            String[] t = line.trim().split("\\s+");
            if (t.length == 3 && t[1].length() == 1) {
                syms.add(new NmSymbol(Long.parseUnsignedLong(t[0], 16), 0, t[1].charAt(0), stripVersion(t[2])));
            } else if (t.length == 4 && t[2].length() == 1) {
                syms.add(new NmSymbol(Long.parseUnsignedLong(t[0], 16), Long.parseUnsignedLong(t[1], 16),
                        t[2].charAt(0), stripVersion(t[3])));
            }
        }
        return syms;
    }

    /**
     * nm's code symbols: T/t (in a text section), i (ifunc), and W/w (weak, of any kind) only when
     * readelf places them in an executable section.
     */
    public static List<NmSymbol> nmCode(Path file, boolean dynamic) {
        List<ReadelfSection> exec = sections(file).stream().filter(s -> s.flags().contains("X")).toList();
        return nm(file, dynamic).stream().filter(s -> "Tti".indexOf(s.type()) >= 0
                || ("Ww".indexOf(s.type()) >= 0 && exec.stream().anyMatch(
                        x -> Long.compareUnsigned(s.value() - x.addr(), x.size()) < 0))).toList();
    }

    private static String stripVersion(String name) {
        int at = name.indexOf('@');
        return at < 0 ? name : name.substring(0, at);
    }

    /** Address -> names at that address. */
    public static Map<Long, Set<String>> aliases(List<NmSymbol> syms) {
        Map<Long, Set<String>> m = new HashMap<>();
        for (NmSymbol s : syms) {
            m.computeIfAbsent(s.value(), k -> new TreeSet<>()).add(s.name());
        }
        return m;
    }

    public record ReadelfSection(int index, String name, String type, long addr, long offset, long size,
                                 String flags) {
    }

    private static final Pattern SECTION = Pattern.compile("^\\s*\\[\\s*(\\d+)]\\s+(\\S+)\\s+(\\S+)\\s+([0-9a-f]{16})"
            + "\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s+[0-9a-f]{2}\\s+([A-Za-z]*)\\s+\\d+\\s+\\d+\\s+\\d+\\s*$");

    /** {@code readelf -SW}, without the NULL section 0. */
    public static List<ReadelfSection> sections(Path file) {
        List<ReadelfSection> out = new ArrayList<>();
        for (String line : run(null, "readelf", "-SW", file.toString()).split("\n")) {
            Matcher m = SECTION.matcher(line);
            if (m.matches() && !m.group(1).equals("0")) {
                out.add(new ReadelfSection(Integer.parseInt(m.group(1)), m.group(2), m.group(3),
                        Long.parseUnsignedLong(m.group(4), 16), Long.parseUnsignedLong(m.group(5), 16),
                        Long.parseUnsignedLong(m.group(6), 16), m.group(7)));
            }
        }
        return out;
    }

    public record ReadelfLoad(long offset, long vaddr, long filesz, long memsz, String flags) {
    }

    private static final Pattern LOAD = Pattern.compile(
            "^\\s*LOAD\\s+0x(\\S+)\\s+0x(\\S+)\\s+0x(\\S+)\\s+0x(\\S+)\\s+0x(\\S+)\\s+(.+?)\\s+0x(\\S+)\\s*$");

    /** The PT_LOAD rows of {@code readelf -lW}. */
    public static List<ReadelfLoad> loads(Path file) {
        List<ReadelfLoad> out = new ArrayList<>();
        for (String line : run(null, "readelf", "-lW", file.toString()).split("\n")) {
            Matcher m = LOAD.matcher(line);
            if (m.matches()) {
                out.add(new ReadelfLoad(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16),
                        Long.parseUnsignedLong(m.group(4), 16), Long.parseUnsignedLong(m.group(5), 16),
                        m.group(6).replace(" ", "")));
            }
        }
        return out;
    }

    /** The build ID from {@code readelf -n}, or null. */
    public static String buildId(Path file) {
        for (String line : run(null, "readelf", "-n", file.toString()).split("\n")) {
            String t = line.trim();
            if (t.startsWith("Build ID:")) {
                return t.substring("Build ID:".length()).trim();
            }
        }
        return null;
    }

    /** e_type from {@code readelf -h}, e.g. "DYN" or "EXEC". */
    public static String elfType(Path file) {
        for (String line : run(null, "readelf", "-h", file.toString()).split("\n")) {
            String t = line.trim();
            if (t.startsWith("Type:")) {
                return t.substring(5).trim().split("\\s+")[0];
            }
        }
        throw new AssertionError("readelf -h printed no Type: for " + file);
    }
}
