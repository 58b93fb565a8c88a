package io.moonwalk.agent.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreIndexTest {
    private static ProfileStore filled(Path dir, int windows) throws Exception {
        ProfileStoreTest.ManualClock clock = new ProfileStoreTest.ManualClock(1_000_000L);
        ProfileStore s = new ProfileStore(dir, 1 << 30, Duration.ofHours(1), clock);
        for (int i = 0; i < windows; i++) {
            // the second window: trace-abort sites without VM health (an empty VM field before them)
            s.write(ProfileStoreTest.window(1_000_000L + i * 1000L, 2 + i), i == 1 ? List.of()
                    : List.of(new WindowSummary.VmHealth("202/vm1", 40 + i, 65536, 524288, 0),
                            new WindowSummary.VmHealth("202/vm 2,=:%+\t", 3, 0.5f * i, 1e9f, i)),
                    i == 0 ? List.of() : List.of(new WindowSummary.AbortSite("202/vm1",
                            "function <@/srv/a b,c:=%+.lua:3> (@/srv/a b,c:=%+.lua:5)", "NYI: bytecode", 11 + i),
                            new WindowSummary.AbortSite("202/vm1", "main chunk (x.lua:1)", "loop unroll limit reached", 1)));
        }
        return s;
    }

    private static ProfileStore reopen(Path dir) throws Exception {
        return new ProfileStore(dir, 1 << 30, Duration.ofHours(1), new ProfileStoreTest.ManualClock(1_010_000L));
    }

    private static List<WindowSummary> withoutVms(List<WindowSummary> ws) {
        return ws.stream().map(w -> w.withVms(List.of()).withAborts(List.of())).toList();
    }

    @Test
    void aRestartTakesSummariesFromTheIndexWithoutReadingWindows(@TempDir Path dir) throws Exception {
        ProfileStore s = filled(dir, 3);
        List<WindowSummary> before = s.windows();
        // the second window's pprof becomes unreadable: a restart that read it would drop the window
        Path pprof = s.file(before.get(1).startMillis(), before.get(1).durationMillis(), ProfileStore.PPROF);
        Files.write(pprof, new byte[] {0x1f, (byte) 0x8b, 1, 2, 3});
        ProfileStore again = reopen(dir);
        assertThat(before.get(1).aborts()).hasSize(2);
        assertThat(before.get(1).vms()).isEmpty();
        assertThat(again.windows()).isEqualTo(before);
        assertThat(again.totalBytes()).isEqualTo(s.totalBytes());
    }

    @Test
    void windowsWithoutALineAreReadOnceAndIndexed(@TempDir Path dir) throws Exception {
        ProfileStore s = filled(dir, 3);
        List<WindowSummary> before = s.windows();
        Files.delete(dir.resolve(StoreIndex.FILE));
        // everything but the VM health comes back from the window files (health lives only in the index)
        assertThat(reopen(dir).windows()).isEqualTo(withoutVms(before));
        before = withoutVms(before);
        assertThat(Files.readAllLines(dir.resolve(StoreIndex.FILE))).hasSize(1 + 3);
        // now indexed: a broken window file no longer matters
        Files.write(s.file(before.get(0).startMillis(), before.get(0).durationMillis(), ProfileStore.PPROF), new byte[0]);
        assertThat(reopen(dir).windows()).isEqualTo(before);
    }

    @Test
    void hostileLinesAreSkippedAndTheirWindowsReadFromTheirFiles(@TempDir Path dir) throws Exception {
        ProfileStore s = filled(dir, 3);
        List<WindowSummary> before = s.windows();
        Path index = dir.resolve(StoreIndex.FILE);
        List<String> lines = Files.readAllLines(index);
        // the first window's line is replaced by junk, and junk of every kind follows
        Files.write(index, List.of(lines.get(0), "1000000\t1000\t-5\t10\t\t", lines.get(2), lines.get(3),
                "x".repeat(StoreIndex.MAX_LINE + 10), "1\t2\t3", "99\t1\t1\t1\t7:1:%zz\t", "\t\t\t\t\t",
                "5\t1000\t1\t1\t" + "1:1:a,".repeat(40) + "\t"), StandardCharsets.UTF_8);
        ProfileStore again = reopen(dir);
        assertThat(again.windows().getFirst()).isEqualTo(before.getFirst().withVms(List.of()).withAborts(List.of()));
        assertThat(again.windows().subList(1, 3)).isEqualTo(before.subList(1, 3));
        before = again.windows();
        // rewritten clean: header and one line per window
        assertThat(Files.readAllLines(index)).hasSize(1 + 3).first().isEqualTo(StoreIndex.HEADER);
        // a header of another version: every window is read back
        Files.writeString(index, "moonwalk-store-index\t99\n", StandardOpenOption.TRUNCATE_EXISTING);
        assertThat(reopen(dir).windows()).isEqualTo(withoutVms(before));
    }

    @Test
    void theIndexFileStaysWithinItsChargeWhileWindowsRotate(@TempDir Path dir) throws Exception {
        ProfileStoreTest.ManualClock clock = new ProfileStoreTest.ManualClock(1_000_000L);
        long bound = 60_000;
        ProfileStore s = new ProfileStore(dir, bound, Duration.ofHours(1), clock);
        for (int i = 0; i < 300; i++) {
            clock.millis = 1_000_000L + i * 1000L;
            s.write(ProfileStoreTest.window(clock.millis, 20));
            long live = s.windowCount();
            long lines = Files.readAllLines(dir.resolve(StoreIndex.FILE)).size() - 1;
            assertThat(lines).as("index lines after window %d", i).isBetween(live, live + live / 2 + 1);
            long dirBytes;
            try (Stream<Path> files = Files.list(dir)) {
                dirBytes = files.mapToLong(p -> p.toFile().length()).sum();
            }
            assertThat(dirBytes).isLessThanOrEqualTo(bound);
        }
        assertThat(s.evictedWindows()).isGreaterThan(250);
        assertThat(reopen(dir).windows()).isEqualTo(s.windows());
    }
}
