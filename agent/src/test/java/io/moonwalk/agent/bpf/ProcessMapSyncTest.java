package io.moonwalk.agent.bpf;

import org.junit.jupiter.api.Tag;
import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.bpf.maps.InMemoryBpfMaps;
import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.unwinder.sync.FailureLog;
import io.moonwalk.unwinder.sync.ProcessMapSync;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.bpf.BpfSampler;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.unwinder.lpm.LpmPrefixes;
import io.moonwalk.process.Mapping;
import io.moonwalk.process.ProcessMaps;
import io.moonwalk.unwinder.cfi.RuleDictionary;
import io.moonwalk.unwinder.cfi.UnwindTableCache;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ProcessMapSync against a live process's /proc maps, into in-memory maps and into the kernel's. */
@Tag("kernel")
class ProcessMapSyncTest {
    private Process sleeper;

    @BeforeEach
    void start() throws Exception {
        sleeper = new ProcessBuilder("sleep", "60").start();
        // wait until the dynamic loader has mapped libc
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (ProcessMaps.read((int) sleeper.pid()).mappings().stream().noneMatch(m -> m.path().contains("libc"))
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @AfterEach
    void stop() throws Exception {
        sleeper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }

    /** Without retention, so a removed process's tables leave the kernel at once (retention: UnwindTableCacheTest). */
    private static UnwindTableCache cache() {
        return new UnwindTableCache(new RuleDictionary(), UnwindTableCache.KERNEL_ENTRY_CAPACITY,
                io.moonwalk.elf.DebugFileLocator.system(), UnwindTableCache.DEFAULT_NEGATIVE_CAPACITY, 0);
    }

    private static byte[] key(int pid, long address) {
        byte[] k = new byte[LpmPrefixes.KEY_BYTES];
        LpmPrefixes.encodeKey(pid, 96, address, k, 0);
        return k;
    }

    @Test
    void installsLibcWithItsBiasAndTableThenRemovesEverything() throws Exception {
        int pid = (int) sleeper.pid();
        InMemoryBpfMaps maps = InMemoryBpfMaps.unwinder(1024, 64, UnwindTableCache.KERNEL_ENTRY_CAPACITY, 65536);
        UnwindTableCache cache = cache();
        ProcessMapSync sync = new ProcessMapSync(maps, cache, new FailureLog());
        assertThat(sync.sync(pid)).isEqualTo(ProcessMapSync.Result.SYNCED);

        byte[] v = new byte[(int) RecordLayout.MAPPING.byteSize()];
        MemorySegment mv = MemorySegment.ofArray(v);
        assertThat(maps.map(BpfMaps.PID_MAPS).lookup(key(pid, 0), v)).isTrue();
        assertThat((int) RecordLayout.MAPPING_KIND.get(mv, 0L)).isEqualTo(RecordLayout.MAP_PID_MARKER);

        Mapping libc = ProcessMaps.read(pid).mappings().stream()
                .filter(m -> m.isExecutable() && m.path().contains("libc.so")).findFirst().orElseThrow();
        long pc = libc.start() + 0x100;
        assertThat(maps.map(BpfMaps.PID_MAPS).lookup(key(pid, pc), v)).isTrue();
        long fileId = (long) RecordLayout.MAPPING_FILE_ID.get(mv, 0L);
        long bias = (long) RecordLayout.MAPPING_BIAS.get(mv, 0L);
        assertThat((int) RecordLayout.MAPPING_KIND.get(mv, 0L)).isEqualTo(RecordLayout.MAP_NATIVE);
        // ground truth from the mapping line: the text segment maps file offset `offset` at `start`, and libc's
        // PT_LOAD segments have vaddr == offset
        assertThat(bias).isEqualTo(libc.start() - libc.offset());
        byte[] ft = new byte[(int) RecordLayout.FILE_TABLE.byteSize()];
        assertThat(maps.map(BpfMaps.UNWIND_FILES).lookup(RecordLayout.fileIdKey(fileId), ft)).isTrue();
        int count = (int) RecordLayout.FILE_TABLE_COUNT.get(MemorySegment.ofArray(ft), 0L);
        assertThat(count).isGreaterThan(1000);
        assertThat(sync.prefixCount(pid)).isGreaterThan(0);
        assertThat(sync.sync(pid)).isEqualTo(ProcessMapSync.Result.UNCHANGED);

        sync.remove(pid);
        assertThat(maps.size(BpfMaps.PID_MAPS)).isZero();
        assertThat(maps.size(BpfMaps.UNWIND_FILES)).isZero();
        assertThat(cache.liveTables()).isZero();
        assertThat(sync.fill().get(0).used()).isZero();
    }

    @Test
    void fullTrieDropsTheProcessAndCountsAndLogsOnce() throws Exception {
        int pid = (int) sleeper.pid();
        Process other = new ProcessBuilder("sleep", "60").start();
        try {
            Thread.sleep(200);
            InMemoryBpfMaps maps = InMemoryBpfMaps.unwinder(4, 64, UnwindTableCache.KERNEL_ENTRY_CAPACITY, 65536);
            FailureLog failures = new FailureLog();
            UnwindTableCache cache = cache();
            ProcessMapSync sync = new ProcessMapSync(maps, cache, failures);
            assertThat(sync.sync(pid)).isEqualTo(ProcessMapSync.Result.PID_MAPS_FULL);
            assertThat(sync.sync((int) other.pid())).isEqualTo(ProcessMapSync.Result.PID_MAPS_FULL);
            // rolled back: no marker, no prefixes, no table references
            assertThat(maps.size(BpfMaps.PID_MAPS)).isZero();
            assertThat(sync.isSynced(pid)).isFalse();
            assertThat(cache.liveTables()).isZero();
            MapFill pidMaps = sync.fill().get(0);
            System.out.println("tiny trie: " + sync.fill());
            assertThat(pidMaps.drops()).isEqualTo(2);
            assertThat(pidMaps.capacity()).isEqualTo(4);
            assertThat(failures.occurrences()).isEqualTo(2);
            assertThat(failures.distinct()).isEqualTo(1);
        } finally {
            other.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void kernelMapsTakeTheSameEntriesAndATinyKernelTrieDropsAndCounts() throws Exception {
        int pid = (int) sleeper.pid();
        SamplerOptions opts = SamplerOptions.forPids(19, java.util.Set.of(pid));
        try (BpfSampler s = BpfSampler.open(opts, Map.of(), x -> { })) {
            UnwindTableCache cache = cache();
            ProcessMapSync sync = new ProcessMapSync(s.maps(), cache, new FailureLog());
            assertThat(sync.sync(pid)).isEqualTo(ProcessMapSync.Result.SYNCED);
            Mapping libc = ProcessMaps.read(pid).mappings().stream()
                    .filter(m -> m.isExecutable() && m.path().contains("libc.so")).findFirst().orElseThrow();
            byte[] v = new byte[(int) RecordLayout.MAPPING.byteSize()];
            assertThat(s.maps().map(BpfMaps.PID_MAPS).lookup(key(pid, libc.end() - 1), v)).isTrue();
            assertThat((long) RecordLayout.MAPPING_BIAS.get(MemorySegment.ofArray(v), 0L))
                    .isEqualTo(libc.start() - libc.offset());
            assertThat(s.maps().map(BpfMaps.PID_MAPS).lookup(key(pid + 1_000_000, libc.start()), v)).isFalse();
            List<MapFill> fill = sync.fill();
            System.out.println("kernel maps after one process: " + fill + ", " + sync.prefixCount(pid)
                    + " LPM prefixes for pid " + pid);
            sync.remove(pid);
            assertThat(s.maps().map(BpfMaps.PID_MAPS).lookup(key(pid, libc.start()), v)).isFalse();
        }
        try (BpfSampler s = BpfSampler.open(opts, Map.of(BpfMaps.PID_MAPS, 3), x -> { })) {
            ProcessMapSync sync = new ProcessMapSync(s.maps(), cache(), new FailureLog());
            assertThat(sync.sync(pid)).isEqualTo(ProcessMapSync.Result.PID_MAPS_FULL);
            assertThat(sync.fill().get(0).drops()).isEqualTo(1);
            assertThat(sync.fill().get(0).used()).isZero();
        }
    }
}
