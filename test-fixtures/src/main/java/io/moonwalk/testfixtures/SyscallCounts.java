package io.moonwalk.testfixtures;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
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
 *                   tool's timer starts after {@code startNanos}), or when {@link Counting#stop()} was called;
 *                   everything between the two was counted
 * @param countedNanos how long the counts ran: perf's own "seconds time elapsed" (from enabling its counters);
 *                   strace prints none, so there it is the whole run (an upper bound: it includes the attach)
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
        List<String> cmd = List.of("perf", "stat", "-o", "%OUT%", "-e", perfEvents(syscalls), "-p",
                Long.toString(pid), "--", "sleep", seconds(window));
        return run("perf", cmd, window, syscalls);
    }

    /**
     * Starts {@code strace -f -c} on {@code pid} with no window of its own: it counts until {@link Counting#stop()}.
     * For a workload that holds its calls until the observers are attached ({@link Counting#awaitCounting}) and stays
     * alive after them, so every call of it is counted.
     */
    public static Counting startStrace(long pid, String... syscalls) {
        check(Duration.ofSeconds(1), syscalls);
        return new Counting("strace", List.of("strace", "-f", "-c", "-e", "trace=" + String.join(",", syscalls), "-o",
                "%OUT%", "-p", Long.toString(pid)), 0, syscalls);
    }

    /**
     * As {@link #startStrace} with {@code perf stat} on the syscalls' entry tracepoints, started with its counters
     * disabled ({@code -D -1}) and enabled through its control FIFO by {@link Counting#awaitCounting}, which returns
     * once perf acknowledged: the counting surely runs from then.
     */
    public static Counting startPerf(long pid, String... syscalls) {
        check(Duration.ofSeconds(1), syscalls);
        return new Counting("perf", List.of("perf", "stat", "-o", "%OUT%", "-D", "-1", "--control", "%CONTROL%", "-e",
                perfEvents(syscalls), "-p", Long.toString(pid)), 0, syscalls);
    }

    private static String perfEvents(String... syscalls) {
        List<String> events = new ArrayList<>();
        for (String s : syscalls) {
            events.add("syscalls:sys_enter_" + s);
        }
        return String.join(",", events);
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
        try (Counting c = new Counting(tool, template, window.toNanos(), syscalls)) {
            return c.await(window.toSeconds() + 15);
        }
    }

    /**
     * strace or perf counting a process's syscalls, started by {@link #startStrace}/{@link #startPerf} (until
     * {@link #stop()}) or with a window of its own. Its output is read on a thread of its own, so the moment strace
     * says it attached is known while it runs.
     */
    public static final class Counting implements AutoCloseable {
        private final String tool;
        private final List<String> cmd = new ArrayList<>();
        private final String[] syscalls;
        private final long windowNanos;
        private final Path out;
        private final Process process;
        private final long start;
        private final StringBuffer log = new StringBuffer();
        private final Thread reader;
        private final Path controlDir;
        private final RandomAccessFile control;
        private final RandomAccessFile ack;
        private volatile long attached = -1;

        Counting(String tool, List<String> template, long windowNanos, String... syscalls) {
            this.tool = tool;
            this.syscalls = syscalls.clone();
            this.windowNanos = windowNanos;
            boolean controlled = template.contains("%CONTROL%");
            try {
                out = Files.createTempFile("moonwalk-" + tool, ".txt");
                if (controlled) {
                    // opened read-write here, so neither side's open blocks on the other
                    controlDir = Files.createTempDirectory("moonwalk-perf-control");
                    Path ctl = controlDir.resolve("ctl");
                    Path ackFifo = controlDir.resolve("ack");
                    for (Path f : List.of(ctl, ackFifo)) {
                        Process mk = new ProcessBuilder("mkfifo", f.toString()).start();
                        if (!mk.waitFor(10, TimeUnit.SECONDS) || mk.exitValue() != 0) {
                            throw new IOException("mkfifo " + f + " failed");
                        }
                    }
                    control = new RandomAccessFile(ctl.toFile(), "rw");
                    ack = new RandomAccessFile(ackFifo.toFile(), "rw");
                    for (String a : template) {
                        cmd.add(a.equals("%CONTROL%") ? "fifo:" + ctl + "," + ackFifo : a);
                    }
                } else {
                    controlDir = null;
                    control = null;
                    ack = null;
                    cmd.addAll(template);
                }
                cmd.replaceAll(a -> a.equals("%OUT%") ? out.toString() : a);
                start = System.nanoTime();
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
                pb.environment().put("LC_ALL", "C"); // perf's digit grouping and decimal point
                process = pb.start();
            } catch (IOException e) {
                throw new AssertionError("cannot run " + tool + " (is it installed? scripts/bootstrap installs it): "
                        + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            // a perf with a window counts from its start (its end less its elapsed time tells when), a controlled one
            // from its acknowledgement; strace says "strace: Process N attached" on stderr once it traces the process
            if (tool.equals("perf") && !controlled) {
                attached = start;
            }
            reader = Thread.ofPlatform().daemon(true).name(tool + "-output").start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        if (attached < 0 && line.contains(" attached")) {
                            attached = System.nanoTime();
                        }
                        if (log.length() < 1 << 16) {
                            log.append(line).append('\n');
                        }
                    }
                } catch (IOException e) {
                    log.append(e).append('\n');
                }
            });
        }

        /**
         * Waits until the tool surely counts: strace said it attached; a perf of {@link #startPerf} acknowledged the
         * enabling of its counters. Fails (AssertionError) when that takes longer than {@code timeout} or the tool
         * ended.
         */
        public Counting awaitCounting(Duration timeout) throws InterruptedException {
            if (control != null) {
                enable(timeout);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (attached < 0) {
                if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                    throw new AssertionError(String.join(" ", cmd) + " is not counting after " + timeout
                            + " (exit " + (process.isAlive() ? "none yet" : process.exitValue()) + "): " + log);
                }
                Thread.sleep(20);
            }
            return this;
        }

        /** Enables a controlled perf's counters; its "ack" says they count. */
        private void enable(Duration timeout) throws InterruptedException {
            Thread acker = Thread.ofPlatform().daemon(true).name("perf-ack").start(() -> {
                try {
                    byte[] b = new byte[4];
                    ack.readFully(b);
                    if (new String(b, StandardCharsets.US_ASCII).startsWith("ack")) {
                        attached = System.nanoTime();
                    }
                } catch (IOException e) {
                    log.append("reading perf's ack: ").append(e).append('\n');
                }
            });
            try {
                control.write("enable\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                throw new AssertionError("cannot enable perf through its control FIFO: " + e, e);
            }
            acker.join(timeout.toMillis());
        }

        /**
         * Stops the tool (SIGINT: strace detaches and perf stops counting, then both print their counts) and parses
         * them. The counts surely ran until this call.
         */
        public SyscallCounts stop() {
            long until = System.nanoTime();
            try {
                Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start();
                if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                    throw new AssertionError("cannot signal " + tool + " " + process.pid() + ": " + log);
                }
            } catch (IOException e) {
                throw new AssertionError("cannot run kill: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            return finish(15, until);
        }

        /** Waits for a tool with a window of its own to end (at most the window plus {@code slackSeconds}). */
        SyscallCounts await(long slackSeconds) {
            return finish(windowNanos / 1_000_000_000L + slackSeconds, start + windowNanos);
        }

        private SyscallCounts finish(long waitSeconds, long until) {
            try {
                if (!process.waitFor(waitSeconds, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError(tool + " did not end within " + waitSeconds + " s");
                }
                reader.join(5000);
                long end = System.nanoTime();
                String table = Files.readString(out, StandardCharsets.UTF_8);
                SyscallCounts c = tool.equals("perf") ? parsePerf(table, start, end, until, syscalls)
                        : parse(table, start, end, attached, until, syscalls);
                if (c != null && control != null) {
                    // enabled at the ack: perf's elapsed time includes the disabled start
                    c = new SyscallCounts(tool, c.calls(), c.errors(), start, end, attached, until, until - attached);
                }
                if (c == null || attached < 0 || c.countingFromNanos() >= until) {
                    throw new AssertionError(String.join(" ", cmd) + " printed no counts or attached too late to"
                            + " count in the window (exit " + process.exitValue() + "; root? process alive? tracefs"
                            + " mounted?): " + log + table);
                }
                return c;
            } catch (IOException e) {
                throw new AssertionError("cannot read the output of " + tool + ": " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        /** Ends the tool if it still runs and deletes its output file. */
        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            try {
                if (control != null) {
                    control.close();
                    ack.close();
                    Files.deleteIfExists(controlDir.resolve("ctl"));
                    Files.deleteIfExists(controlDir.resolve("ack"));
                    Files.deleteIfExists(controlDir);
                }
                Files.deleteIfExists(out);
            } catch (IOException ignored) {
                // a temp file left behind
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

    /**
     * Fails (AssertionError) unless the counting surely ran over all of [{@code fromNanos}, {@code untilNanos}]
     * ({@link System#nanoTime()}): the check that a count covers every call a workload made in between.
     */
    public SyscallCounts coveringAll(long fromNanos, long untilNanos) {
        if (countingFromNanos > fromNanos || countingUntilNanos < untilNanos) {
            throw new AssertionError(tool + " counted surely from " + countingFromNanos + " until " + countingUntilNanos
                    + " ns, not over all of the workload's calls from " + fromNanos + " until " + untilNanos);
        }
        return this;
    }
}
