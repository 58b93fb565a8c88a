package io.moonwalk.luajit.jit;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.unwinder.lpm.LpmPrefixes;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Routing plans: correctness on small cases, and the scale model of issue 5 — 32 nginx workers × 800 traces,
 * trace mcode packed into areas of sizemcode the way LuaJIT does it — against the real trie size in
 * {@code bpf/src/unwind.h}.
 */
@Tag("pure")
class McodeRoutingTest {
    private static final int PID = 4242;

    @Test
    void alignedAreasTakeOnePrefixAndAdjacentSameVmAreasMerge() {
        List<McodeArea> areas = List.of(new McodeArea(0x7f00_0001_0000L, 0x10000),
                new McodeArea(0x7f00_0002_0000L, 0x10000), new McodeArea(0x7f00_0010_0000L, 0x8000));
        McodeRouting.Plan p = McodeRouting.planAreas(PID, List.of(1L, 1L, 2L), areas);
        assertThat(p.areas()).isEqualTo(3);
        assertThat(p.ranges()).isEqualTo(2);
        // [0x10000, 0x30000) is not one aligned block: 0x10000/16 + 0x20000/15 bits; plus one for the third
        assertThat(p.routes()).extracting(McodeRouting.Route::g).containsExactly(1L, 1L, 2L);
        assertThat(p.routes().get(0).prefix().blockSize()).isEqualTo(0x10000);
        assertThat(p.routes().get(1).prefix().blockSize()).isEqualTo(0x10000);
        assertThat(p.routes().get(2).prefix().blockSize()).isEqualTo(0x8000);
        assertThat(p.conflicts()).isZero();
    }

    @Test
    void differentVmsNeverMergeAndOverlapsAreDropped() {
        McodeArea a = new McodeArea(0x7f00_0001_0000L, 0x10000);
        McodeArea b = new McodeArea(0x7f00_0002_0000L, 0x10000);
        McodeArea overlapping = new McodeArea(0x7f00_0002_8000L, 0x10000);
        McodeRouting.Plan p = McodeRouting.planAreas(PID, List.of(1L, 2L, 3L), List.of(a, b, overlapping));
        assertThat(p.conflicts()).isEqualTo(2);
        assertThat(p.routes()).hasSize(1);
        assertThat(p.routes().get(0).g()).isEqualTo(1L);
        assertThat(MultiVmLiveTest.route(p, b.start())).as("conflicting areas route nowhere").isZero();
    }

    @Test
    void pageAlignedAreasStayWithinSixteenEntriesEach() {
        SplittableRandom rnd = new SplittableRandom(3);
        int worst = 0;
        for (int i = 0; i < 10_000; i++) {
            long start = 0x7f00_0000_0000L + ((long) rnd.nextInt(1 << 20) << 12);
            long size = (long) (1 + rnd.nextInt(16)) << 12;
            worst = Math.max(worst, McodeRouting.planAreas(PID, List.of(1L), List.of(new McodeArea(start, size)))
                    .routes().size());
        }
        System.out.println("worst entries for a page-aligned area of 4..64 KB: " + worst);
        assertThat(worst).isLessThanOrEqualTo(16);
    }

    /** Trie capacity as compiled into the BPF object. */
    static int trieCapacity() throws Exception {
        String h = Files.readString(JitTargets.repoRoot().resolve("bpf/src/unwind.h"));
        Matcher m = Pattern.compile("#define MW_PID_MAPS_ENTRIES (\\d+)").matcher(h);
        assertThat(m.find()).as("MW_PID_MAPS_ENTRIES in bpf/src/unwind.h").isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** One worker's VM: traces packed top-down into areas of {@code areaBytes}, new areas below old ones. */
    record Worker(List<McodeArea> areas, List<TraceInfo> traces) {
    }

    static Worker worker(SplittableRandom rnd, long top, int traces, long areaBytes, boolean scattered) {
        List<McodeArea> areas = new ArrayList<>();
        List<TraceInfo> ts = new ArrayList<>();
        long areaStart = 0;
        long mctop = 0;
        long mcbot = 0;
        long nextArea = top - areaBytes;
        for (int no = 1; no <= traces; no++) {
            // trace sizes seen in OpenResty: mostly a few hundred bytes, a tail of several KB
            long size = rnd.nextInt(10) < 8 ? 80 + rnd.nextInt(900) : 1000 + rnd.nextInt(6000);
            long exitStubs = 8L * (1 + rnd.nextInt(8)); // exit stub groups grow from the bottom
            if (areas.isEmpty() || mctop - size < mcbot + exitStubs) {
                areaStart = nextArea;
                areas.add(new McodeArea(areaStart, areaBytes));
                mctop = areaStart + areaBytes;
                mcbot = areaStart + McodeArea.LINK_BYTES + 48; // header + the registered unwind CIE/FDE
                // LuaJIT tries just below the previous area; under address-space contention it lands elsewhere
                nextArea = scattered ? areaStart - areaBytes - ((long) (1 + rnd.nextInt(64)) << 16)
                        : areaStart - areaBytes;
            }
            mcbot += exitStubs;
            mctop -= size;
            ts.add(new TraceInfo(no, no % 3 == 0 ? Math.max(1, no - 1) : 0, 0, 0, 0, 0, mctop, size, 16));
        }
        return new Worker(areas, ts);
    }

    @Test
    void thirtyTwoWorkersWithEightHundredTracesStayUnderFivePercentOfTheTrie() throws Exception {
        int capacity = trieCapacity();
        System.out.printf("LPM trie capacity (bpf/src/unwind.h MW_PID_MAPS_ENTRIES): %d entries%n", capacity);
        for (long areaBytes : new long[] {64 << 10, 32 << 10}) {
            for (boolean scattered : new boolean[] {false, true}) {
                SplittableRandom rnd = new SplittableRandom(2026);
                long areaEntries = 0;
                long traceEntries = 0;
                long areas = 0;
                int maxPerWorker = 0;
                for (int w = 0; w < 32; w++) {
                    Worker wk = worker(rnd, 0x7f00_0000_0000L - ((long) w << 32), 800, areaBytes, scattered);
                    McodeRouting.Plan p = McodeRouting.planAreas(1000 + w,
                            wk.areas().stream().map(a -> 1L).toList(), wk.areas());
                    assertThat(p.conflicts()).isZero();
                    // every trace's mcode is routed
                    for (TraceInfo t : wk.traces()) {
                        if (t.traceno() % 97 == 0) {
                            assertThat(MultiVmLiveTest.route(p, t.mcode())).isEqualTo(1L);
                            assertThat(MultiVmLiveTest.route(p, t.mcodeEnd() - 1)).isEqualTo(1L);
                        }
                    }
                    assertThat(p.routes().size()).as("at most 16 entries per area")
                            .isLessThanOrEqualTo(16 * wk.areas().size());
                    maxPerWorker = Math.max(maxPerWorker, p.routes().size());
                    areaEntries += p.routes().size();
                    areas += wk.areas().size();
                    traceEntries += McodeRouting.perTraceEntries(wk.traces());
                }
                double pct = 100.0 * areaEntries / capacity;
                System.out.printf("scale: 32 workers x 800 traces, sizemcode %d KB, %s areas: %d areas, %d LPM "
                                + "entries total (%.1f per worker, max %d), %.3f %% of the trie; per-trace routing "
                                + "would take %d entries (%.1f per worker, %.1f %% of the trie)%n",
                        areaBytes >> 10, scattered ? "scattered" : "contiguous", areas, areaEntries,
                        areaEntries / 32.0, maxPerWorker, pct, traceEntries, traceEntries / 32.0,
                        100.0 * traceEntries / capacity);
                assertThat(pct).isLessThan(5.0);
                assertThat(traceEntries).as("the model is not trivial: per-trace routing is far costlier")
                        .isGreaterThan(10 * areaEntries);
            }
        }
        assertThat(LpmPrefixes.MAX_PREFIXES).isLessThan(capacity);
    }
}
