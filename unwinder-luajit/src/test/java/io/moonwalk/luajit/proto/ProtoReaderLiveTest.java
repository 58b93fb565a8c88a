package io.moonwalk.luajit.proto;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.fixtures.LuajitScript;
import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.naming.ChunkNames;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import io.moonwalk.process.ProcessMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reads protos out of a live {@code /usr/bin/luajit} (OpenResty luajit2, GC64) and compares with what LuaJIT
 * reports about them itself: {@code jit.util.funcinfo} (proto address, bytecode count, line of every pc),
 * {@code jit.util.funcbc} (instructions) and {@code debug.getinfo} (source, linedefined, short_src).
 */
@Tag("tools")
class ProtoReaderLiveTest {
    private static LuajitScript lua;
    private static ProcessMemory mem;

    @BeforeAll
    static void start() throws Exception {
        lua = LuajitScript.start();
        mem = new ProcessMemory();
    }

    @AfterAll
    static void stop() throws Exception {
        if (mem != null) {
            mem.close();
        }
        if (lua != null) {
            lua.close();
        }
    }

    private static ProtoReader reader() {
        return new ProtoReader(mem, KnownLayouts.OPENRESTY_GC64, BytecodeSet.LUAJIT_2_1, 64);
    }

    @Test
    void everyFunctionMatchesLuajitsOwnDescription() {
        ProtoReader r = reader();
        int widths8 = 0;
        int widths16 = 0;
        int widths32 = 0;
        int jitPatched = 0;
        for (LuajitScript.Func f : lua.funcs.values()) {
            long pt = r.protoOfFunction(lua.pid, f.address());
            assertThat(pt).as("%s: proto of GCfunc", f.label()).isEqualTo(f.proto());
            ProtoResult res = r.read(lua.pid, pt);
            assertThat(res).as("%s read", f.label()).isInstanceOf(ProtoInfo.class);
            ProtoInfo p = (ProtoInfo) res;
            assertThat(p.sizebc()).as(f.label()).isEqualTo(f.bytecodes());
            assertThat(p.firstline()).as(f.label()).isEqualTo(f.linedefined());
            assertThat(p.firstline() + p.numline()).as(f.label()).isEqualTo(f.lastlinedefined());
            assertThat(p.chunkname().replaceAll("[\t\n]", " ")).as(f.label()).startsWith(f.sourcePrefix());
            assertThat(ChunkNames.display(p.chunkname())).as(f.label()).isEqualTo(f.shortSrc());
            assertThat(f.lines()).as("jit.util gives a line for every pc below sizebc").hasSize(p.sizebc());
            for (int pc = 0; pc < p.sizebc(); pc++) {
                if (p.line(pc) != f.lines()[pc]) {
                    throw new AssertionError(f.label() + " pc " + pc + ": line " + p.line(pc) + ", luajit says "
                            + f.lines()[pc]);
                }
            }
            for (int pc = 0; pc < p.sizebc(); pc++) {
                int ours = p.instruction(pc);
                int theirs = f.ins()[pc];
                if (ours != theirs) {
                    // the JIT may have patched a loop or header since the script's snapshot: same family only
                    assertThat(family(BytecodeSet.op(ours))).as("%s ins %d", f.label(), pc)
                            .isEqualTo(family(BytecodeSet.op(theirs))).isIn("FORI", "FORL", "ITERL", "LOOP",
                                    "FUNCF", "FUNCV");
                    jitPatched++;
                }
                int op = BytecodeSet.op(theirs);
                assertThat(BytecodeSet.LUAJIT_2_1.modeWord(op)).as("mode of %s",
                        BytecodeSet.LUAJIT_2_1.opName(op)).isEqualTo(f.modes()[pc]);
            }
            assertThat(p.fingerprint()).isEqualTo(r.currentFingerprint(lua.pid, pt));
            switch (ProtoReader.lineSize(p.numline())) {
                case 1 -> widths8++;
                case 2 -> widths16++;
                default -> widths32++;
            }
        }
        System.out.println("instructions patched by the JIT while we looked: " + jitPatched);
        assertThat(widths8).as("protos with u8 lineinfo").isPositive();
        assertThat(widths16).as("protos with u16 lineinfo").isPositive();
        assertThat(widths32).as("protos with u32 lineinfo").isPositive();
        assertThat(r.stats().invalid()).isZero();
    }

    private static String family(int op) {
        String n = BytecodeSet.LUAJIT_2_1.opName(op);
        return n.matches("[IJ](FORI|FORL|ITERL|LOOP|FUNCF|FUNCV)") ? n.substring(1) : n;
    }

    @Test
    void cacheHitsMissesAndAWrongFingerprintIsStale() {
        ProtoReader r = reader();
        LuajitScript.Func f = lua.funcs.get("global_fn");
        long fp = r.currentFingerprint(lua.pid, f.proto());
        assertThat(fp).isNotZero();
        ProtoResult first = r.lookup(lua.pid, f.proto(), fp);
        ProtoResult second = r.lookup(lua.pid, f.proto(), fp);
        assertThat(first).isInstanceOf(ProtoInfo.class).isSameAs(second);
        assertThat(r.lookup(lua.pid, f.proto(), fp ^ 1)).isEqualTo(ProtoFailure.STALE);
        ProtoReader.Stats s = r.stats();
        assertThat(s.hits()).isEqualTo(1);
        assertThat(s.misses()).isEqualTo(2);
        assertThat(s.stale()).isEqualTo(1);
        assertThat(s.size()).isEqualTo(1);
        r.forgetPid(lua.pid);
        assertThat(r.stats().size()).isZero();
    }

    @Test
    void lruIsBoundedAndCountsEvictions() {
        ProtoReader r = new ProtoReader(mem, KnownLayouts.OPENRESTY_GC64, BytecodeSet.LUAJIT_2_1, 3);
        for (LuajitScript.Func f : lua.funcs.values()) {
            assertThat(r.lookup(lua.pid, f.proto(), r.currentFingerprint(lua.pid, f.proto())))
                    .as(f.label()).isInstanceOf(ProtoInfo.class);
        }
        assertThat(r.stats().size()).isEqualTo(3);
        assertThat(r.stats().evictions()).isEqualTo(lua.funcs.size() - 3);
    }

    @Test
    void freedAndReusedProtoAddressesAreStaleNeverTheOldName() throws Exception {
        ProtoReader before = new ProtoReader(mem, KnownLayouts.OPENRESTY_GC64, BytecodeSet.LUAJIT_2_1, 1024);
        int n = lua.victimProtos.size();
        long[] fps = new long[n];
        for (int i = 0; i < n; i++) {
            long pt = lua.victimProtos.get(i);
            fps[i] = before.currentFingerprint(lua.pid, pt);
            ProtoResult live = before.lookup(lua.pid, pt, fps[i]);
            assertThat(live).isInstanceOf(ProtoInfo.class);
            assertThat(((ProtoInfo) live).chunkname()).isEqualTo("=victim_" + (i + 1));
        }

        java.util.Map<Long, String> reusedBy = new java.util.HashMap<>();
        for (String line : lua.command("drop")) {
            String[] t = line.split("\t");
            reusedBy.put(LuajitScript.hex(t[2]), "=other_" + t[3]);
        }
        ProtoReader after = reader();
        int reused = 0;
        for (int i = 0; i < n; i++) {
            long pt = lua.victimProtos.get(i);
            // a sample taken before the drop carries the old fingerprint: never the new code's name
            ProtoResult old = after.lookup(lua.pid, pt, fps[i]);
            if (old instanceof ProtoInfo p) {
                // only acceptable if the memory still holds the old proto intact (freed, not yet touched)
                assertThat(p.chunkname()).isEqualTo("=victim_" + (i + 1));
                assertThat(reusedBy).doesNotContainKey(pt);
            }
            String newName = reusedBy.get(pt);
            if (newName != null) {
                reused++;
                assertThat(old).as("victim %d reused by %s", i + 1, newName).isEqualTo(ProtoFailure.STALE);
                // a sample taken now carries the new fingerprint and gets the new chunk's name
                ProtoResult fresh = after.lookup(lua.pid, pt, after.currentFingerprint(lua.pid, pt));
                assertThat(fresh).isInstanceOf(ProtoInfo.class);
                assertThat(((ProtoInfo) fresh).chunkname()).isEqualTo(newName);
                // the reader that cached the old proto still answers for the old fingerprint: that sample saw it
                assertThat(((ProtoInfo) before.lookup(lua.pid, pt, fps[i])).chunkname())
                        .isEqualTo("=victim_" + (i + 1));
            }
        }
        System.out.printf("staleness: %d of %d freed victim protos had their address reused; stale count %d%n",
                reused, n, after.stats().stale());
        assertThat(reused).as("LuaJIT reused some freed proto addresses").isPositive();
        assertThat(after.stats().stale()).isGreaterThanOrEqualTo(reused);
    }

    @Test
    void randomHeapAddressesAreRefusedQuickly() throws Exception {
        List<Mapping> heap = new ArrayList<>();
        for (Mapping m : ProcessMaps.read(lua.pid).mappings()) {
            if (!m.isFileBacked() && m.perms().startsWith("rw")) {
                heap.add(m);
            }
        }
        assertThat(heap).isNotEmpty();
        ProtoReader r = reader();
        SplittableRandom rnd = new SplittableRandom(4);
        int valid = 0;
        int n = 20_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Mapping m = heap.get(rnd.nextInt(heap.size()));
            long a = (m.start() + rnd.nextLong(m.end() - m.start())) & ~7L;
            ProtoResult res = i % 2 == 0 ? r.read(lua.pid, a) : r.lookup(lua.pid, a, rnd.nextLong());
            if (res instanceof ProtoInfo p) {
                // landing exactly on a live proto is possible; then it must really be one LuaJIT knows
                valid++;
                assertThat(lua.funcs.values().stream().anyMatch(f -> f.proto() == p.address())
                        || p.chunkname().startsWith("@") || p.chunkname().startsWith("=")).isTrue();
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        ProtoReader.Stats s = r.stats();
        System.out.printf("hostile heap reads: %d attempts, %d valid, %d invalid, %d stale, %d unreadable, %d ms%n",
                n, valid, s.invalid(), s.stale(), s.unreadable(), ms);
        assertThat(s.invalid() + s.stale() + s.unreadable() + valid).isEqualTo(n);
        assertThat(ms).as("bounded time").isLessThan(20_000);
    }
}
