package io.moonwalk.luajit.jit;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.process.ProcessMemory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code testdata/luajit/multivm.c} (built here with gcc against the installed luajit2) runs three VMs on three
 * threads, each its own Lua file: each VM's snapshot is its own — distinct g, its own traces, disjoint areas —
 * and the routing plan sends every area to the VM that owns it.
 */
@Tag("tools")
class MultiVmLiveTest {
    private static final String[] FILES = {"side_trace.lua", "vm_fib.lua", "vm_strings.lua"};

    static Path buildHost() throws Exception {
        Path include = Path.of("/usr/include/luajit-2.1/lua.h");
        assertThat(include).as("luajit2 headers (apt-get install libluajit2-5.1-dev; scripts/bootstrap does)")
                .isRegularFile();
        Path out = Files.createTempDirectory("moonwalk-multivm").resolve("multivm");
        JitTargets.run(120, "gcc", "-O1", "-Wall", "-Werror", "-pthread",
                JitTargets.repoRoot().resolve("testdata/luajit/multivm.c").toString(), "-I/usr/include/luajit-2.1",
                "-lluajit-5.1", "-o", out.toString());
        return out;
    }

    @Test
    void everyVmHasItsOwnSnapshot() throws Exception {
        Path host = buildHost();
        List<String> cmd = new ArrayList<>(List.of(host.toString(), "0.3"));
        for (String f : FILES) {
            cmd.add(JitTargets.lua(f).toString());
        }
        try (LuaRun run = new LuaRun(cmd, Map.of()); ProcessMemory mem = new ProcessMemory()) {
            List<String> lines = run.readUntil("ALLDONE");
            JitStateReader reader = new JitStateReader(mem, JitTargets.INSTALLED_OPENRESTY_GC64.layout());
            List<JitSnapshot> snaps = new ArrayList<>();
            Set<Long> gs = new HashSet<>();
            Set<Long> mcodes = new HashSet<>();
            for (int i = 0; i < FILES.length; i++) {
                int vm = i;
                assertThat(lines).as("VM %d finished its file", vm).contains("VM " + vm + " END (nil) 0");
                long mainL = lines.stream().filter(l -> l.startsWith("VM " + vm + " L "))
                        .map(l -> LuaRun.hex(l.split(" ")[3])).findFirst().orElseThrow();
                LuaRun.Truth truth = LuaRun.parse(lines, "VM" + vm + " ");
                long g = reader.globalOfThread(run.pid, truth.thread());
                assertThat(reader.globalOfThread(run.pid, mainL)).as("VM %d: main L and coroutine share g", vm)
                        .isEqualTo(g);
                JitSnapshot s = reader.read(run.pid, g);
                System.out.printf("VM %d (%s): %s%n", vm, FILES[vm], s);
                assertThat(truth.traces()).as("VM %d compiled traces", vm).isNotEmpty();
                TruthCheck.matches("VM " + vm, s, truth);
                assertThat(gs.add(g)).as("VM %d has its own g", vm).isTrue();
                for (TraceInfo t : s.traces()) {
                    assertThat(mcodes.add(t.mcode())).as("VM %d trace %d mcode is its own", vm, t.traceno()).isTrue();
                }
                snaps.add(s);
            }
            McodeRouting.Plan plan = McodeRouting.plan(run.pid, snaps);
            assertThat(plan.conflicts()).isZero();
            assertThat(plan.areas()).isEqualTo(snaps.stream().mapToInt(s -> s.areas().size()).sum());
            for (JitSnapshot s : snaps) {
                for (TraceInfo t : s.traces()) {
                    assertThat(route(plan, t.mcode())).as("trace %d of g 0x%x routed to its VM", t.traceno(), s.g())
                            .isEqualTo(s.g());
                }
            }
            System.out.printf("multivm: %d VMs, %d areas, %d LPM entries, %d traces%n", snaps.size(), plan.areas(),
                    plan.routes().size(), mcodes.size());
            run.send("quit");
        }
    }

    /** The g of the longest matching prefix for pc, as the LPM trie would answer; 0 if none. */
    static long route(McodeRouting.Plan plan, long pc) {
        long g = 0;
        int best = -1;
        for (McodeRouting.Route r : plan.routes()) {
            long size = r.prefix().blockSize();
            boolean in = Long.compareUnsigned(pc, r.address()) >= 0
                    && (size == 0 || Long.compareUnsigned(pc - r.address(), size) < 0);
            if (in && r.prefixLength() > best) {
                best = r.prefixLength();
                g = r.g();
            }
        }
        return g;
    }
}
