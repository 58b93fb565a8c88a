package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.abort.SiteNamer;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import io.moonwalk.process.ProcessMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@link SiteNamer} on garbage addresses of a real process: bounded time, never an exception. */
@Tag("tools")
class SiteNamerLiveTest {
    /** Random addresses in a live luajit's writable memory as sites: each is unknown or a chunk:line, quickly. */
    @Test
    void randomLiveAddressesAsSitesEndQuickly() throws Exception {
        try (LuaRun lua = JitStateReaderLiveTest.start(JitTargets.INSTALLED_OPENRESTY_GC64, "side_trace.lua", "0.2",
                "serve"); ProcessMemory mem = new ProcessMemory()) {
            lua.readUntil("READY");
            List<Mapping> rw = new ArrayList<>();
            for (Mapping m : ProcessMaps.read(lua.pid).mappings()) {
                if (m.perms().startsWith("rw")) {
                    rw.add(m);
                }
            }
            SiteNamer namer = new SiteNamer(mem, JitTargets.INSTALLED_OPENRESTY_GC64.layout());
            SplittableRandom rnd = new SplittableRandom(11);
            int unknown = 0;
            int named = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < 300; i++) {
                Mapping m = rw.get(rnd.nextInt(rw.size()));
                String s = namer.name(lua.pid, (m.start() + rnd.nextLong(m.end() - m.start())) & ~3L);
                if (s.equals(SiteNamer.UNKNOWN)) {
                    unknown++;
                } else {
                    assertThat(s).matches(".+:\\d+");
                    named++;
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("random sites: %d unknown, %d inside some proto's bytecode, %d ms%n", unknown, named, ms);
            assertThat(ms).isLessThan(30_000);
        }
    }
}
