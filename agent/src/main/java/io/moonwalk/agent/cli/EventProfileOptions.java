package io.moonwalk.agent.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The event profiles {@code record} and {@code agent} both offer (bpf/src/events.bpf.c): off-CPU waits and the mmap
 * calls of LuaJIT processes. One definition, so the flags, their defaults and their range checks are the same in
 * both commands (and in the agent's config file and environment, which follow the option names).
 */
public final class EventProfileOptions {
    @Option(names = "--off-cpu", arity = "0..1", paramLabel = "MIN", fallbackValue = "1ms",
            converter = DurationConverter.class,
            description = "Also profile where threads block: every wait in a system call of at least MIN (default"
                    + " ${FALLBACK-VALUE}; 1us to 60s) with its kernel + native + Lua stack and the time blocked, as a"
                    + " profile of its own (sample type off_cpu/nanoseconds): record writes NAME.offcpu.EXT next to"
                    + " each output; the agent stores it next to each CPU window (a quarter of --store-max-size),"
                    + " exports it in the same OTLP request and shows it with the web view's profile toggle."
                    + " Default: off.")
    Duration offCpu;

    @Option(names = "--mmap-events", arity = "0..1", paramLabel = "INTERVAL", fallbackValue = "10ms",
            converter = DurationConverter.class,
            description = "Also count every mmap, munmap and mprotect call of LuaJIT processes and record the calling"
                    + " stack (kernel + native + Lua) at most once per INTERVAL per process (default"
                    + " ${FALLBACK-VALUE}; 1us to 60s), as a profile of its own (sample type mmap_calls: a stack's"
                    + " value is the calls it stands for): record writes NAME.mmap.EXT and per-process call rates;"
                    + " the agent stores it next to each CPU window (a quarter of --store-max-size), exports it in the"
                    + " same OTLP request, shows it with the web view's profile toggle and counts"
                    + " moonwalk_luajit_mmap_calls_total."
                    + " Finds the Lua code behind an mcode allocation storm. Default: off.")
    Duration mmapEvents;

    /** Checks the ranges; the usage error names the flag. */
    void validate() {
        check("--off-cpu", offCpu, "a minimum block time from 1us to 60s, e.g. 1ms");
        check("--mmap-events", mmapEvents, "a walk interval from 1us to 60s, e.g. 10ms");
    }

    private static void check(String flag, Duration d, String what) {
        if (d != null && (d.isNegative() || d.isZero() || d.toSeconds() > 60)) {
            throw new UsageProblem(flag + " " + RecordCommand.format(d) + " is out of range: use " + what);
        }
    }

    /** The off-CPU minimum in nanoseconds, 0 when off. */
    long offCpuMinNanos() {
        return offCpu == null ? 0 : Math.max(1, offCpu.toNanos());
    }

    /** The mmap walk interval in nanoseconds, 0 when off. */
    long mmapIntervalNanos() {
        return mmapEvents == null ? 0 : Math.max(1, mmapEvents.toNanos());
    }

    /** What the start-up line adds: ", off-CPU waits of 1ms or more, mmap events", or nothing. */
    String startupText() {
        return (offCpu == null ? "" : ", off-CPU waits of " + RecordCommand.format(offCpu) + " or more")
                + (mmapEvents == null ? "" : ", mmap events of LuaJIT processes");
    }
}
