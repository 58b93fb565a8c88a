package io.moonwalk.testfixtures;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ground truth for syscall counts of a running process without any of our code, over a bounded window: either
 * {@code strace -f -c} attached to it, or {@code perf stat} counting the kernel's {@code syscalls:sys_enter_*}
 * tracepoints for its threads. strace stops the tracee at every syscall while attached (its {@code --seccomp-bpf}
 * filter is not available for {@code -p}): an mcode storm making 20,000 mprotect calls a second runs about five
 * times slower under it, so its counts are exact but its rates are those of a slowed process. perf counts in the
 * kernel and does not slow the tracee; use it for rates, strace where a count must come from outside the kernel's
 * tracepoints.
 *
 * @param tool       {@code strace} or {@code perf}
 * @param calls      calls per syscall name (every name asked for is present, 0 if it was never called)
 * @param errors     failed calls per syscall name, included in {@code calls} (strace only; perf: empty)
 * @param startNanos {@link System#nanoTime()} (CLOCK_MONOTONIC) just before the tool was started: the counted
 *                   window begins after it
 * @param endNanos   {@link System#nanoTime()} just after the tool exited: the counted window ends before it
 * @param countingFromNanos a moment the counting had certainly begun: strace's "attached" line was read (attaching
 *                   took up to hundreds of ms under load in CI), perf's end less its own elapsed time
 * @param countingUntilNanos a moment the counting certainly still ran: {@code startNanos} plus the window (the
 *                   tool's timer starts after {@code startNanos}); everything between the two was counted
 * @param countedNanos how long the counts ran: perf's own "seconds time elapsed" (from enabling its counters);
 *                   strace prints none, so there it is the whole window (an upper bound: it includes the attach)
 */
public record SyscallCounts(String tool, Map<String, Long> calls, Map<String, Long> errors, long startNanos,
                            long endNanos, long countingFromNanos, long countingUntilNanos, long countedNanos) {
    // strace -c rows: "% time seconds usecs/call calls errors syscall"; errors may be blank
    private static final Pattern ROW = Pattern.compile(
            "^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)\\s+(\\d*)\\s*([a-z_0-9]+)\\s*$");
    // perf stat rows: "  4,847      syscalls:sys_enter_mmap" (digit grouping by locale) and the elapsed time
    private static final Pattern PERF_ROW = Pattern.compile(
            "^\\s*([\\d,.']+|<not counted>|<not supported>)\\s+syscalls:sys_enter_([a-z_0-9]+)\\b.*$");
    private static final Pattern PERF_ELAPSED = Pattern.compile("^\\s*([\\d.]+) seconds time elapsed.*$");

    public SyscallCounts {
        calls = Map.copyOf(calls);
        errors = Map.copyOf(errors);
    }

    /**
     * Attaches {@code strace -f -c -e trace=SYSCALLS} to {@code pid} (all its threads) for {@code window}, then
     * detaches (SIGINT, on which strace prints its table) and parses the counts. Fails (AssertionError) when strace
     * is missing, cannot attach (not root, ptrace refused) or prints no table.
     */
    public static SyscallCounts strace(long pid, Duration window, String... syscalls) {
        check(window, syscalls);
        List<String> cmd = List.of("timeout", "--signal=INT", "--kill-after=5", seconds(window), "strace", "-f", "-c",
                "-e", "trace=" + String.join(",", syscalls), "-o", "%OUT%", "-p", Long.toString(pid));
        return run("strace", cmd, window, syscalls);
    }

    /**
     * {@code perf stat -e syscalls:sys_enter_X,... -p PID -- sleep WINDOW}: the kernel's counts of the syscalls'
     * entries by the process's threads over the window. Fails (AssertionError) when perf is missing, the tracepoints
     * are not available (tracefs) or perf prints no counts.
     */
    public static SyscallCounts perf(long pid, Duration window, String... syscalls) {
        check(window, syscalls);
        List<String> events = new ArrayList<>();
        for (String s : syscalls) {
            events.add("syscalls:sys_enter_" + s);
        }
        List<String> cmd = List.of("perf", "stat", "-o", "%OUT%", "-e", String.join(",", events), "-p",
                Long.toString(pid), "--", "sleep", seconds(window));
        return run("perf", cmd, window, syscalls);
    }

    private static void check(Duration window, String... syscalls) {
        if (syscalls.length == 0 || window.isNegative() || window.isZero() || window.toSeconds() > 600) {
            throw new IllegalArgumentException("need syscalls and a window of (0, 600] s, got " + window);
        }
    }

    private static String seconds(Duration window) {
        return String.format(java.util.Locale.ROOT, "%.3f", window.toNanos() / 1e9);
    }

    private static SyscallCounts run(String tool, List<String> template, Duration window, String... syscalls) {
        Path out = null;
        try {
            out = Files.createTempFile("moonwalk-" + tool, ".txt");
            List<String> cmd = new ArrayList<>();
            for (String a : template) {
                cmd.add(a.equals("%OUT%") ? out.toString() : a);
            }
            long start = System.nanoTime();
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("LC_ALL", "C"); // perf's digit grouping and decimal point
            Process p = pb.start();
            // strace says "strace: Process N attached" on stderr once it traces the process: the counting runs from then
            long attached = tool.equals("perf") ? start : -1;
            StringBuilder log = new StringBuilder();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (attached < 0 && line.contains(" attached")) {
                        attached = System.nanoTime();
                    }
                    if (log.length() < 1 << 16) {
                        log.append(line).append('\n');
                    }
                }
            }
            if (!p.waitFor(window.toSeconds() + 15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(tool + " did not end after " + window);
            }
            long end = System.nanoTime();
            String table = Files.readString(out, StandardCharsets.UTF_8);
            long until = start + window.toNanos();
            SyscallCounts c = tool.equals("perf") ? parsePerf(table, start, end, until, syscalls)
                    : parse(table, start, end, attached, until, syscalls);
            if (c == null || attached < 0 || c.countingFromNanos() >= until) {
                throw new AssertionError(String.join(" ", cmd) + " printed no counts or attached too late to count in the window (exit "
                        + p.exitValue() + "; root? process alive? tracefs mounted?): " + log + table);
            }
            return c;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + tool + " (is it installed? scripts/bootstrap installs it): " + e,
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file left behind
                }
            }
        }
    }

    private static Map<String, Long> zeros(String... syscalls) {
        Map<String, Long> m = new TreeMap<>();
        for (String s : syscalls) {
            m.put(s, 0L);
        }
        return m;
    }

    /** The counts of strace's {@code -c} table, or null when {@code table} holds none. */
    static SyscallCounts parse(String table, long start, long end, long from, long until, String... syscalls) {
        Map<String, Long> calls = zeros(syscalls);
        Map<String, Long> errors = zeros(syscalls);
        boolean header = false;
        for (String line : table.split("\n")) {
            if (line.contains("usecs/call")) {
                header = true;
                continue;
            }
            Matcher m = ROW.matcher(line);
            if (header && m.matches() && calls.containsKey(m.group(3))) {
                calls.put(m.group(3), Long.parseLong(m.group(1)));
                errors.put(m.group(3), m.group(2).isEmpty() ? 0 : Long.parseLong(m.group(2)));
            }
        }
        return header ? new SyscallCounts("strace", calls, errors, start, end, from, until, end - start) : null;
    }

    /** The counts of {@code perf stat}'s output, or null unless every syscall and the elapsed time are in it. */
    static SyscallCounts parsePerf(String text, long start, long end, long until, String... syscalls) {
        Map<String, Long> calls = zeros(syscalls);
        int seen = 0;
        long elapsed = -1;
        for (String line : text.split("\n")) {
            Matcher m = PERF_ROW.matcher(line);
            if (m.matches() && calls.containsKey(m.group(2))) {
                String n = m.group(1).replaceAll("[,.']", "");
                calls.put(m.group(2), n.startsWith("<") ? 0 : Long.parseLong(n)); // not counted: never ran
                seen++;
            }
            Matcher e = PERF_ELAPSED.matcher(line);
            if (e.matches()) {
                elapsed = Math.round(Double.parseDouble(e.group(1)) * 1e9);
            }
        }
        return seen == syscalls.length && elapsed > 0
                ? new SyscallCounts("perf", calls, Map.of(), start, end, end - elapsed, until, elapsed) : null;
    }

    public long calls(String syscall) {
        Long n = calls.get(syscall);
        if (n == null) {
            throw new IllegalArgumentException(syscall + " was not counted; counted: " + calls.keySet());
        }
        return n;
    }

    /** Nanoseconds the counts ran ({@link #countedNanos()}). */
    public long nanos() {
        return countedNanos;
    }

    /** Calls per second counted. */
    public double rate(String syscall) {
        return calls(syscall) / (countedNanos / 1e9);
    }
}
