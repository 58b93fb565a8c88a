package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.process.ProcessMemory;
import io.moonwalk.testfixtures.SyscallCounts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code testdata/lua/mcode_storm.lua} against LuaJIT's own counts (its "stop"/"flush" trace events) and against
 * {@code strace -c} ({@link SyscallCounts}): the traces-compiled figure of {@link FlushDetector} read the way the
 * agent reads (once a second), and the storm shapes the mmap acceptance of the event profile relies on.
 */
@Tag("tools")
class McodeStormLiveTest {
    static final String[] MMAP_CALLS = {"mmap", "munmap", "mprotect"};

    /** One TICK/END line: seconds since the storm began, LuaJIT's cumulative counts, CLOCK_MONOTONIC in ns. */
    record Tick(double at, long traces, long aborts, long flushes, long monoNanos) {
        static Tick parse(String line) {
            String[] t = line.split(" ");
            return new Tick(Double.parseDouble(t[1]), Long.parseLong(t[3]), Long.parseLong(t[5]),
                    Long.parseLong(t[7]), Math.round(Double.parseDouble(t[11]) * 1e9));
        }
    }

    /**
     * LuaJIT's flushes within a counted window: {@code inner} between the first and last tick inside it (all
     * happened within the window), {@code outer} between the last tick before it and the first after it (every
     * flush of the window is among them).
     */
    /**
     * LuaJIT's flushes that certainly fell into a count's window ({@code inner}: between ticks printed while the
     * counting certainly ran) and that possibly did ({@code outer}: between the last tick before the tool started and
     * the first after it ended).
     */
    record Flushes(long inner, long outer) {
        static Flushes of(List<Tick> ticks, SyscallCounts c) {
            long outerLo = 0;
            long outerHi = ticks.get(ticks.size() - 1).flushes();
            long innerLo = -1;
            long innerHi = -1;
            for (Tick t : ticks) {
                if (t.monoNanos() <= c.startNanos()) {
                    outerLo = t.flushes();
                }
                if (t.monoNanos() >= c.endNanos()) {
                    outerHi = Math.min(outerHi, t.flushes());
                }
                if (t.monoNanos() > c.countingFromNanos() && t.monoNanos() < c.countingUntilNanos()) {
                    innerLo = innerLo < 0 ? t.flushes() : innerLo;
                    innerHi = t.flushes();
                }
            }
            if (innerLo < 0 || ticks.get(ticks.size() - 1).monoNanos() < c.endNanos()) {
                throw new AssertionError("the storm must run through the window: " + c + " ticks " + ticks);
            }
            return new Flushes(innerHi - innerLo, outerHi - outerLo);
        }
    }

    static long thread(String started) {
        String[] t = started.split(" ");
        for (int i = 0; i < t.length - 1; i++) {
            if (t[i].equals("thread")) {
                return LuaRun.hex(t[i + 1]);
            }
        }
        throw new AssertionError("no thread in " + started);
    }

    /** Ticks up to END. */
    static List<Tick> ticks(LuaRun lua) throws Exception {
        List<Tick> out = new ArrayList<>();
        for (String l; (l = lua.readLine()) != null; ) {
            if (l.startsWith("TICK ") || l.startsWith("END ")) {
                out.add(Tick.parse(l));
                if (l.startsWith("END ")) {
                    return out;
                }
            }
        }
        throw new AssertionError("the storm ended without END; ticks " + out);
    }

    @Test
    void tracesCompiledEqualLuajitsCountWhenNothingIsFreed() throws Exception {
        JitTargets target = JitTargets.INSTALLED_OPENRESTY_GC64;
        try (LuaRun lua = JitStateReaderLiveTest.start(target, "mcode_storm.lua", "steady", "4", "0", "150");
             ProcessMemory mem = new ProcessMemory()) {
            String started = lua.readLine();
            assertThat(started).startsWith("STARTED steady");
            JitStateReader reader = new JitStateReader(mem, target.layout());
            long g = reader.globalOfThread(lua.pid, thread(started));
            FlushDetector d = new FlushDetector();
            d.observe(reader.read(lua.pid, g)); // before GO: what exists predates tracking
            lua.send("GO");
            // read once a second like the agent, while LuaJIT compiles 150 new traces a second
            long deadline = System.nanoTime() + 3_500_000_000L;
            int reads = 1;
            while (System.nanoTime() < deadline) {
                Thread.sleep(1000);
                d.observe(reader.read(lua.pid, g));
                reads++;
            }
            List<Tick> ticks = ticks(lua); // END printed: the workload now waits on stdin, compiling nothing
            d.observe(reader.read(lua.pid, g));
            Tick end = ticks.get(ticks.size() - 1);
            System.out.printf("%s steady: %d reads over %.1f s; traces compiled: moonwalk %d, LuaJIT %d (%.0f/s);"
                    + " flushes moonwalk %d, LuaJIT %d%n", target, reads + 1, d.trackedNanos() / 1e9,
                    d.tracesCompiled(), end.traces(), end.traces() / end.at(), d.flushes(), end.flushes());
            assertThat(end.traces()).as("LuaJIT compiled about 150 traces a second").isGreaterThan(450);
            assertThat(end.flushes()).isZero();
            assertThat(d.tracesCompiled()).as("every trace LuaJIT compiled after the first read, none twice")
                    .isEqualTo(end.traces());
        }
    }

    @Test
    void limitStormTracesAreALowerBoundAndStraceAndPerfCountTwoAreasPerFlush() throws Exception {
        JitTargets target = JitTargets.INSTALLED_OPENRESTY_GC64;
        // 4 KiB areas, at most 2: every flush unmaps two areas and the next traces map two new ones
        try (LuaRun lua = JitStateReaderLiveTest.start(target, "mcode_storm.lua", "limit", "11", "4", "8");
             ProcessMemory mem = new ProcessMemory()) {
            String started = lua.readLine();
            JitStateReader reader = new JitStateReader(mem, target.layout());
            long g = reader.globalOfThread(lua.pid, thread(started));
            FlushDetector d = new FlushDetector();
            int failed = 0;
            for (int i = 0; i < 3; i++) { // reads a second apart, like the agent
                // a read torn by a flush under way is retried at once (up to 50 times, 10 ms apart): at 55k traces/s
                // (a quiet CI machine) two of three single reads were torn, which left no interval to count in
                for (int attempt = 0; attempt < 50; attempt++) {
                    try {
                        d.observe(reader.read(lua.pid, g));
                        break;
                    } catch (JitReadException e) {
                        failed++;
                        Thread.sleep(10);
                    }
                }
                Thread.sleep(1000);
            }
            SyscallCounts perf = SyscallCounts.perf(lua.pid, Duration.ofSeconds(3), MMAP_CALLS);
            SyscallCounts strace = SyscallCounts.strace(lua.pid, Duration.ofSeconds(3), MMAP_CALLS);
            List<Tick> ticks = ticks(lua);
            Tick end = ticks.get(ticks.size() - 1);
            for (SyscallCounts c : List.of(perf, strace)) {
                Flushes f = Flushes.of(ticks, c);
                System.out.printf("%s limit storm, %s %.2f s: mmap %d (%.0f/s), munmap %d (%.0f/s), mprotect %d"
                        + " (%.0f/s); LuaJIT's flushes in the window %d..%d (%.0f/s)%n", target, c.tool(),
                        c.nanos() / 1e9, c.calls("mmap"), c.rate("mmap"), c.calls("munmap"), c.rate("munmap"),
                        c.calls("mprotect"), c.rate("mprotect"), f.inner(), f.outer(), f.outer() / (c.nanos() / 1e9));
                // strace stops the process at every system call, which slows the storm several-fold (61 flushes in
                // its 3 s once in CI against 2,000+ under perf): its window only has to show a storm, not a rate
                assertThat(f.inner()).as("a storm: flushes every few ms").isGreaterThan(c.tool().equals("strace") ? 20 : 100);
                assertThat(c.calls("munmap")).as("%s: each flush unmaps the VM's two 4 KiB areas", c.tool())
                        .isBetween(2 * f.inner(), 2 * f.outer());
                assertThat(c.calls("mmap")).as("%s: and the next traces map two new ones", c.tool())
                        .isBetween(2 * f.inner(), 2 * f.outer() + 2);
            }
            System.out.printf("%s limit storm: LuaJIT traces %d in %.1f s (%.0f/s), flushes %d; moonwalk's reads saw"
                    + " %d compiled in %.1f s tracked, %d flushes; %d torn reads%n", target, end.traces(), end.at(),
                    end.traces() / end.at(), end.flushes(), d.tracesCompiled(), d.trackedNanos() / 1e9, d.flushes(),
                    failed);
            assertThat(d.tracesCompiled()).as("a lower bound: most traces are flushed between two reads")
                    .isPositive().isLessThan(end.traces());
        }
    }

    @Test
    void crowdedAddressSpaceProbesMapAndUnmapSeveralTimesPerArea() throws Exception {
        JitTargets target = JitTargets.INSTALLED_OPENRESTY_GC64;
        try (LuaRun lua = JitStateReaderLiveTest.start(target, "mcode_storm.lua", "crowd", "10", "64", "128")) {
            String started = lua.readLine();
            assertThat(started).as("the crowd storm applies to /usr/bin/luajit (a PIE)").startsWith("STARTED crowd");
            lua.readLine(); // the first tick: the crowding is done, the storm runs
            Thread.sleep(1000);
            SyscallCounts c = SyscallCounts.perf(lua.pid, Duration.ofSeconds(4), MMAP_CALLS);
            List<Tick> ticks = ticks(lua);
            Flushes f = Flushes.of(ticks, c);
            double perArea = (double) c.calls("munmap") / (2 * f.outer());
            System.out.printf("%s crowd storm (%s): %s %.2f s: mmap %d (%.0f/s), munmap %d (%.0f/s), mprotect %d"
                    + " (%.0f/s); LuaJIT's flushes in the window %d..%d (2 areas each): at least %.1f munmaps per"
                    + " area%n", target, started.substring(started.indexOf("reserved")), c.tool(), c.nanos() / 1e9,
                    c.calls("mmap"), c.rate("mmap"), c.calls("munmap"), c.rate("munmap"), c.calls("mprotect"),
                    c.rate("mprotect"), f.inner(), f.outer(), perArea);
            assertThat(f.inner()).as("the storm flushed in the window").isPositive();
            assertThat(perArea).as("probes that landed out of range are unmapped and retried").isGreaterThan(3);
            assertThat(c.calls("mmap")).as("every probe and every kept area is an mmap")
                    .isGreaterThanOrEqualTo(c.calls("munmap") - 2);
        }
    }
}
