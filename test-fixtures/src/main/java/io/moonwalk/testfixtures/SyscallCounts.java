package io.moonwalk.testfixtures;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ground truth for syscall rates of a running process without any of our code: {@code strace -f -c} attached to
 * it for a bounded time. {@code --seccomp-bpf} makes the kernel stop the tracee only at the syscalls asked for,
 * so a process making 20,000 other syscalls a second (LuaJIT's mprotect per trace) is barely slowed; the
 * counted syscalls still cost a ptrace stop each (tens of microseconds).
 *
 * @param calls  calls per syscall name (every name asked for is present, 0 if it was never called)
 * @param errors failed calls per syscall name (included in {@code calls})
 * @param nanos  wall time strace was attached: from its start to its exit, so it includes the attach (a few
 *               milliseconds) — use windows of seconds when a rate must be within a few percent
 */
public record SyscallCounts(Map<String, Long> calls, Map<String, Long> errors, long nanos) {
    // "% time seconds usecs/call calls errors syscall" rows; errors may be blank
    private static final Pattern ROW = Pattern.compile(
            "^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)\\s+(\\d*)\\s*([a-z_0-9]+)\\s*$");

    public SyscallCounts {
        calls = Map.copyOf(calls);
        errors = Map.copyOf(errors);
    }

    /**
     * Attaches {@code strace -f -c --seccomp-bpf -e trace=SYSCALLS} to {@code pid} (all its threads) for
     * {@code window}, then detaches (SIGINT, which makes strace print its table) and parses the counts.
     * Fails (AssertionError) when strace is missing, cannot attach (not root, ptrace refused) or prints no table.
     */
    public static SyscallCounts strace(long pid, Duration window, String... syscalls) {
        if (syscalls.length == 0 || window.isNegative() || window.isZero() || window.toSeconds() > 600) {
            throw new IllegalArgumentException("need syscalls and a window of (0, 600] s, got " + window);
        }
        Path out = null;
        try {
            out = Files.createTempFile("moonwalk-strace", ".txt");
            long start = System.nanoTime();
            Process p = new ProcessBuilder("timeout", "--signal=INT", "--kill-after=5",
                    String.format("%.3f", window.toNanos() / 1e9), "strace", "-f", "-c", "--seccomp-bpf",
                    "-e", "trace=" + String.join(",", syscalls), "-o", out.toString(), "-p", Long.toString(pid))
                    .redirectErrorStream(true).start();
            byte[] log = p.getInputStream().readAllBytes();
            if (!p.waitFor(window.toSeconds() + 15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("strace did not end after " + window);
            }
            long nanos = System.nanoTime() - start;
            String table = Files.readString(out, StandardCharsets.UTF_8);
            SyscallCounts c = parse(table, nanos, syscalls);
            if (c == null) {
                throw new AssertionError("strace -p " + pid + " printed no summary (exit " + p.exitValue() + "; is it"
                        + " root, is the process alive?): " + new String(log, StandardCharsets.UTF_8) + table);
            }
            return c;
        } catch (IOException e) {
            throw new AssertionError("cannot run strace (is it installed? scripts/bootstrap installs it): " + e, e);
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

    /** The counts of strace's {@code -c} table, or null when {@code table} holds none. */
    static SyscallCounts parse(String table, long nanos, String... syscalls) {
        Map<String, Long> calls = new TreeMap<>();
        Map<String, Long> errors = new TreeMap<>();
        for (String s : syscalls) {
            calls.put(s, 0L);
            errors.put(s, 0L);
        }
        boolean header = false;
        for (String line : table.split("\n")) {
            if (line.contains("usecs/call")) {
                header = true;
                continue;
            }
            Matcher m = ROW.matcher(line);
            if (header && m.matches() && !m.group(3).equals("total") && calls.containsKey(m.group(3))) {
                calls.put(m.group(3), Long.parseLong(m.group(1)));
                errors.put(m.group(3), m.group(2).isEmpty() ? 0 : Long.parseLong(m.group(2)));
            }
        }
        return header ? new SyscallCounts(calls, errors, nanos) : null;
    }

    public long calls(String syscall) {
        Long n = calls.get(syscall);
        if (n == null) {
            throw new IllegalArgumentException(syscall + " was not traced; traced: " + calls.keySet());
        }
        return n;
    }

    /** Calls per second of wall time attached. */
    public double rate(String syscall) {
        return calls(syscall) / (nanos / 1e9);
    }
}
