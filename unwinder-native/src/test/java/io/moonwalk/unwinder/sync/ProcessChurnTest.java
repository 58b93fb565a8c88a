package io.moonwalk.unwinder.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.bpf.maps.InMemoryBpfMaps;
import io.moonwalk.unwinder.cfi.RuleDictionary;
import io.moonwalk.unwinder.cfi.UnwindTableCache;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lost exits and recycled PIDs (a /proc tree the test controls, in-memory maps): the periodic
 * reconcile frees what a gone or replaced process held, and no process can take more than its share
 * of pid_maps.
 */
@Tag("pure")
class ProcessChurnTest {
    private static void process(Path proc, int pid, long start, int mappings) throws Exception {
        Path d = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(d.resolve("stat"), pid + " (worker) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " + start
                + " 1000 10 18446744073709551615\n");
        StringBuilder maps = new StringBuilder();
        for (int i = 0; i < mappings; i++) {
            long base = 0x7f0000000000L + i * 0x100000L;
            // odd-sized anonymous executable mappings: several LPM prefixes each
            maps.append(String.format("%x-%x r-xp 00000000 00:00 0%n", base, base + 0x3000 + 0x1000L * (i % 5)));
        }
        Files.writeString(d.resolve("maps"), maps.toString());
    }

    private static long pidMapsEntries(InMemoryBpfMaps maps) {
        return maps.size(BpfMaps.PID_MAPS);
    }

    @Test
    void reconcileFreesExitedAndRecycledProcessesButKeepsLiveOnes(@TempDir Path proc) throws Exception {
        InMemoryBpfMaps maps = InMemoryBpfMaps.unwinder(4096, 64, UnwindTableCache.KERNEL_ENTRY_CAPACITY, 65536);
        ProcessMapSync sync = new ProcessMapSync(maps, new UnwindTableCache(new RuleDictionary()), new FailureLog(), proc);
        process(proc, 100, 5000, 3);
        process(proc, 200, 6000, 3);
        process(proc, 300, 7000, 3);
        for (int pid : new int[] {100, 200, 300}) {
            assertThat(sync.sync(pid)).isEqualTo(ProcessMapSync.Result.SYNCED);
        }
        long all = pidMapsEntries(maps);
        assertThat(all).isGreaterThan(9);
        assertThat(sync.reconcile()).isEmpty();
        // 100 exited without an exit event; 200's PID now belongs to a process started later
        Files.walk(proc.resolve("100")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        process(proc, 200, 9999, 1);
        assertThat(sync.reconcile()).containsExactlyInAnyOrder(100, 200);
        assertThat(sync.isSynced(100)).isFalse();
        assertThat(sync.isSynced(200)).isFalse();
        assertThat(sync.isSynced(300)).isTrue();
        assertThat(pidMapsEntries(maps)).isEqualTo(all / 3); // only 300's prefixes and marker remain
        assertThat(sync.reconciled()).isEqualTo(2);
        // the new owner of 200 is synced from scratch, with its own (single) mapping
        assertThat(sync.sync(200)).isEqualTo(ProcessMapSync.Result.SYNCED);
        assertThat(sync.prefixCount(200)).isLessThan(sync.prefixCount(300));
    }

    @Test
    void oneProcessCannotTakeMoreThanItsShareOfPidMaps(@TempDir Path proc) throws Exception {
        InMemoryBpfMaps maps = InMemoryBpfMaps.unwinder(32768, 64, UnwindTableCache.KERNEL_ENTRY_CAPACITY, 65536);
        ProcessMapSync sync = new ProcessMapSync(maps, new UnwindTableCache(new RuleDictionary()), new FailureLog(), proc);
        int share = sync.maxEntriesPerProcess();
        assertThat(share).isEqualTo(32768 / ProcessMapSync.MAX_SHARE_DIVISOR);
        process(proc, 100, 5000, 2000); // ~4000 prefixes wanted, share is 2048
        assertThat(sync.sync(100)).isEqualTo(ProcessMapSync.Result.SYNCED);
        assertThat(pidMapsEntries(maps)).isLessThanOrEqualTo(share + 1);
        assertThat(sync.shareDrops()).isPositive();
        process(proc, 101, 5001, 2); // another process still gets in
        assertThat(sync.sync(101)).isEqualTo(ProcessMapSync.Result.SYNCED);
        assertThat(sync.isSynced(101)).isTrue();
        // a re-sync of the greedy process does not retry the skipped mappings or grow past its share
        sync.sync(100);
        assertThat(sync.prefixCount(100)).isLessThanOrEqualTo(share);
    }
}
