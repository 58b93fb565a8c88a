package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.lowmem.LowHeadroom;
import io.moonwalk.luajit.lowmem.LowHeadroomScanner;
import io.moonwalk.process.ProcessMemory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A non-PIE host embedding non-GC64 LuaJIT ({@code testdata/luajit/lowmem_host.c}, address-space randomization off
 * so its program break starts right above the executable) grows its brk heap in 128 MiB steps and its Lua VM keeps
 * 64 MiB more after each: the headroom read from {@code /proc/PID/maps} falls with the host's heap (the brk
 * occupant is what the host says it grew), and the warning is up before LuaJIT reports "not enough memory".
 */
@Tag("tools")
class LowHeadroomLiveTest {
    private static final long MIB = 1 << 20;

    @ParameterizedTest
    @ValueSource(strings = {"upstream-nogc64", "openresty-nogc64"})
    void headroomFallsAsTheHostHeapGrowsAndWarnsBeforeLuajitRunsOut(String build) throws Exception {
        Path src = JitTargets.fixtureRoot().resolve("build").resolve(build).resolve("src");
        Path exe = Files.createTempDirectory("moonwalk-lowmem").resolve("lowmem_host");
        JitTargets.run(120, "gcc", "-no-pie", "-O1", "-Wall", "-Werror",
                JitTargets.repoRoot().resolve("testdata/luajit/lowmem_host.c").toString(), "-I" + src,
                src.resolve("libluajit.a").toString(), "-lm", "-ldl", "-o", exe.toString());
        try (LuaRun host = new LuaRun(List.of("setarch", "x86_64", "-R", exe.toString()), Map.of());
             ProcessMemory mem = new ProcessMemory()) {
            List<String> hello = host.readUntil("DONE");
            long L = LuaRun.hex(hello.get(0).split(" ")[1]);
            assertThat(new JitStateReader(mem, JitTargets.UPSTREAM_NOGC64_BUILD.layout()).globalOfThread(host.pid, L))
                    .as("the host runs a LuaJIT VM").isNotZero();
            LowHeadroomScanner scanner = new LowHeadroomScanner();
            LowHeadroom start = scanner.scan(host.pid);
            System.out.printf("%s start: %s%n", build, start);
            List<LowHeadroom> steps = new ArrayList<>();
            boolean brkGrows = true;
            int warnedAt = -1;
            int failedAt = -1;
            String failure = null;
            long prevFree = start.freeBytes();
            for (int step = 0; step < 40 && failedAt < 0; step++) {
                if (brkGrows) {
                    String brk = host.command("brk 128").get(0);
                    if (brk.startsWith("BRKFAIL")) {
                        brkGrows = false; // the break ran into LuaJIT's arenas
                    } else {
                        long heap = Long.parseLong(brk.split(" ")[1]);
                        LowHeadroom h = scanner.scan(host.pid);
                        assertThat(h.brkBytes()).as("step %d: brk occupant vs the host's own sbrk figure", step)
                                .isBetween(heap, heap + 2 * MIB);
                        assertThat(prevFree - h.freeBytes()).as("step %d: free space lost to 128 MiB of brk", step)
                                .isBetween(128 * MIB - MIB, 128 * MIB + MIB);
                        prevFree = h.freeBytes();
                    }
                }
                LowHeadroom before = scanner.scan(host.pid);
                if (warnedAt < 0 && before.low()) {
                    warnedAt = step;
                }
                String lua = host.command("lua 64").get(0);
                LowHeadroom after = scanner.scan(host.pid);
                steps.add(after);
                System.out.printf("%s step %2d: %-34s free %5d MiB, largest gap %5d MiB, brk %5d MiB, anon %5d MiB,"
                        + " files %d MiB%s%n", build, step, lua, after.freeBytes() / MIB, after.largestGap() / MIB,
                        after.brkBytes() / MIB, after.anonBytes() / MIB, after.fileBytes() / MIB,
                        after.low() ? "  LOW" : "");
                if (lua.startsWith("LUA FAIL")) {
                    failedAt = step;
                    failure = lua;
                } else {
                    long gcKb = Long.parseLong(lua.split(" ")[2]);
                    assertThat(after.anonBytes()).as("the VM's GC heap lives in anonymous low mappings")
                            .isGreaterThanOrEqualTo(gcKb * 1024);
                    if (warnedAt < 0 && after.low()) {
                        warnedAt = step + 1;
                    }
                }
                assertThat(after.freeBytes()).isLessThanOrEqualTo(before.freeBytes());
                prevFree = after.freeBytes();
            }
            System.out.printf("%s: warning from step %d, LuaJIT failed at step %d (%s)%n", build, warnedAt, failedAt,
                    failure);
            assertThat(failure).as("LuaJIT ran out of low memory").contains("not enough memory");
            assertThat(warnedAt).as("the warning was up before LuaJIT failed").isBetween(0, failedAt);
            assertThat(start.low()).as("no warning at the start").isFalse();
        }
    }
}
