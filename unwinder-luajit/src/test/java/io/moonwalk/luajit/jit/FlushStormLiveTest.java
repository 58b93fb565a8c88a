package io.moonwalk.luajit.jit;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.process.ProcessMemory;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code testdata/lua/flush_storm.lua} running free while we poll its JIT state like the agent would: flushes
 * show up in the detector and in {@link JitHealth}, torn reads are bounded failures, and LuaJIT's own flush
 * count bounds what we can have seen.
 */
@Tag("tools")
class FlushStormLiveTest {
    private static final long POLL_MS = 100;

    record Observed(int snapshots, long flushes, Map<JitReadException.Reason, Integer> failures, JitHealth last,
                    int luajitFlushes, int maxAreas, long maxMcode) {
    }

    static Observed poll(JitTargets target, String mode, double seconds) throws Exception {
        try (LuaRun lua = JitStateReaderLiveTest.start(target, "flush_storm.lua", mode, Double.toString(seconds));
             ProcessMemory mem = new ProcessMemory()) {
            List<String> head = lua.readUntil("STARTED " + mode);
            long thread = LuaRun.hex(head.get(0).split(" ")[1]);
            JitStateReader reader = new JitStateReader(mem, target.layout());
            long g = reader.globalOfThread(lua.pid, thread);
            FlushDetector d = new FlushDetector();
            Map<JitReadException.Reason, Integer> failures = new EnumMap<>(JitReadException.Reason.class);
            int snapshots = 0;
            int maxAreas = 0;
            long maxMcode = 0;
            JitHealth last = null;
            long deadline = System.nanoTime() + (long) (seconds * 1e9) - 200_000_000L;
            while (System.nanoTime() < deadline && lua.process.isAlive()) {
                try {
                    JitSnapshot s = reader.read(lua.pid, g);
                    snapshots++;
                    d.observe(s);
                    last = JitHealth.of(s, d);
                    maxAreas = Math.max(maxAreas, s.areas().size());
                    maxMcode = Math.max(maxMcode, s.mcodeBytesAllocated());
                } catch (JitReadException e) {
                    failures.merge(e.reason(), 1, Integer::sum);
                }
                Thread.sleep(POLL_MS);
            }
            List<String> tail = lua.readUntil("END");
            int luajitFlushes = tail.stream().filter(l -> l.startsWith("FLUSHES ")).mapToInt(
                    l -> Integer.parseInt(l.substring(8))).findFirst().orElseThrow();
            Observed o = new Observed(snapshots, d.flushes(), failures, last, luajitFlushes, maxAreas, maxMcode);
            System.out.printf("%s %s: %d snapshots every %d ms, %d flushes detected (LuaJIT: %d), failures %s, "
                    + "max areas %d, max mcode %d B, last health %s%n", target, mode, snapshots, POLL_MS, o.flushes(),
                    luajitFlushes, failures, maxAreas, maxMcode, last);
            return o;
        }
    }

    @Test
    void jitFlushLoopIsSeenWithinSeconds() throws Exception {
        Observed o = poll(JitTargets.INSTALLED_OPENRESTY_GC64, "flush", 3);
        assertThat(o.snapshots()).as("most polls read a consistent state").isGreaterThan(10);
        assertThat(o.flushes()).as("flushes seen in ~25 polls of a storm").isGreaterThan(5);
        assertThat(o.flushes()).as("never more than happened").isLessThanOrEqualTo(o.luajitFlushes());
        assertThat(o.failures().keySet()).as("only torn reads, never a wrong verdict on g")
                .isSubsetOf(JitReadException.Reason.UNSTABLE, JitReadException.Reason.UNREADABLE,
                        JitReadException.Reason.BAD_AREA_CHAIN);
    }

    @Test
    void maxmcodeExhaustionFlushesAreSeenAndStayUnderTheLimit() throws Exception {
        Observed o = poll(JitTargets.INSTALLED_OPENRESTY_GC64, "maxmcode", 3);
        assertThat(o.luajitFlushes()).as("LuaJIT ran out of mcode and flushed").isPositive();
        assertThat(o.flushes()).as("flushes from mcode exhaustion detected").isPositive();
        assertThat(o.flushes()).isLessThanOrEqualTo(o.luajitFlushes());
        assertThat(o.last().maxMcodeBytes()).isEqualTo(64 << 10);
        assertThat(o.last().areaBytes()).isEqualTo(32 << 10);
        assertThat(o.maxMcode()).as("allocated mcode never exceeds maxmcode").isLessThanOrEqualTo(64 << 10);
        assertThat(o.maxAreas()).isBetween(1, 2);
    }
}
