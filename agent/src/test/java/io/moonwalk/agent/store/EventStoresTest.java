package io.moonwalk.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The off-CPU and mmap event stores beside the CPU one in one directory (agent --off-cpu --mmap-events). */
class EventStoresTest {
    /** The same stacks as {@code cpu}, each worth {@code factor} of {@code type} per CPU sample it had. */
    private static Profile as(Profile cpu, SampleType type, long factor) {
        return new Profile(cpu.startEpochNanos(), cpu.durationNanos(), 0, cpu.entries().stream()
                .map(e -> new Profile.Entry(e.process(), e.threadName(), e.frames(), e.labels(), e.count() * factor))
                .toList(), type);
    }

    private static Profile offCpu(Profile cpu) {
        return as(cpu, SampleType.OFF_CPU, 1_500_000L); // 1.5 ms blocked per CPU sample
    }

    private static Profile mmap(Profile cpu) {
        return as(cpu, SampleType.MMAP, 7); // 7 mapping calls per CPU sample
    }

    private static ProfileStore open(Path dir, ProfileKind kind, long bytes) throws Exception {
        return new ProfileStore(dir, bytes, Duration.ofHours(1), new ProfileStoreTest.ManualClock(1_010_000L), kind);
    }

    @Test
    void theThreeKindsShareTheDirectoryAndEachReadsOnlyItsOwnWindowsAndIndex(@TempDir Path dir) throws Exception {
        ProfileStore cpu = open(dir, ProfileKind.CPU, 1 << 30);
        ProfileStore off = open(dir, ProfileKind.OFF_CPU, 1 << 30);
        ProfileStore mm = open(dir, ProfileKind.MMAP, 1 << 30);
        for (int i = 0; i < 3; i++) {
            Profile w = ProfileStoreTest.window(1_000_000L + i * 1000L, 2 + i);
            cpu.write(w);
            off.write(offCpu(w));
            mm.write(mmap(w));
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertThat(names).contains(StoreIndex.FILE, "index-offcpu-v1.tsv", "index-mmap-v1.tsv");
            assertThat(names).filteredOn(n -> n.startsWith("offcpu-")).hasSize(6);
            assertThat(names).filteredOn(n -> n.startsWith("mmap-")).hasSize(6);
            assertThat(names).filteredOn(n -> n.startsWith("window-")).hasSize(6);
        }
        assertThat(Files.readAllLines(dir.resolve(StoreIndex.FILE)).getFirst()).isEqualTo("moonwalk-store-index\t1");
        assertThat(Files.readAllLines(dir.resolve("index-offcpu-v1.tsv")).getFirst())
                .isEqualTo("moonwalk-store-index\t1\toff_cpu\tnanoseconds");
        assertThat(Files.readAllLines(dir.resolve("index-mmap-v1.tsv")).getFirst())
                .isEqualTo("moonwalk-store-index\t1\tmmap_calls\tcount");

        List<WindowSummary> cpuWindows = cpu.windows();
        List<WindowSummary> offWindows = off.windows();
        List<WindowSummary> mmapWindows = mm.windows();
        // reopened, each store finds its own windows through its own index, none of the others'
        ProfileStore cpu2 = open(dir, ProfileKind.CPU, 1 << 30);
        ProfileStore off2 = open(dir, ProfileKind.OFF_CPU, 1 << 30);
        ProfileStore mm2 = open(dir, ProfileKind.MMAP, 1 << 30);
        assertThat(cpu2.windows()).isEqualTo(cpuWindows);
        assertThat(off2.windows()).isEqualTo(offWindows);
        assertThat(mm2.windows()).isEqualTo(mmapWindows);
        // the index summary of an event window sums the events' values
        assertThat(offWindows.getFirst().samples()).isEqualTo(cpuWindows.getFirst().samples() * 1_500_000L);
        assertThat(mmapWindows.getFirst().samples()).isEqualTo(cpuWindows.getFirst().samples() * 7);

        long cpuTotal = cpu2.merged(0, Long.MAX_VALUE, e -> true).totalSamples();
        Profile merged = off2.merged(0, Long.MAX_VALUE, e -> true);
        assertThat(merged.sampleType()).isEqualTo(SampleType.OFF_CPU);
        assertThat(merged.periodNanos()).isZero();
        assertThat(merged.totalSamples()).isEqualTo(cpuTotal * 1_500_000L);
        Profile mergedMmap = mm2.merged(0, Long.MAX_VALUE, e -> true);
        assertThat(mergedMmap.sampleType()).isEqualTo(SampleType.MMAP);
        assertThat(mergedMmap.periodNanos()).isZero();
        assertThat(mergedMmap.totalSamples()).isEqualTo(cpuTotal * 7);
        assertThat(cpu2.merged(0, Long.MAX_VALUE, e -> true).sampleType()).isEqualTo(SampleType.CPU);

        // without the index files each rebuilds from its own window files only
        Files.delete(dir.resolve(StoreIndex.FILE));
        Files.delete(dir.resolve("index-offcpu-v1.tsv"));
        Files.delete(dir.resolve("index-mmap-v1.tsv"));
        assertThat(open(dir, ProfileKind.OFF_CPU, 1 << 30).windows()).extracting(WindowSummary::samples)
                .isEqualTo(offWindows.stream().map(WindowSummary::samples).toList());
        assertThat(open(dir, ProfileKind.MMAP, 1 << 30).windows()).extracting(WindowSummary::samples)
                .isEqualTo(mmapWindows.stream().map(WindowSummary::samples).toList());
        assertThat(open(dir, ProfileKind.CPU, 1 << 30).windows()).extracting(WindowSummary::samples)
                .isEqualTo(cpuWindows.stream().map(WindowSummary::samples).toList());
    }

    @Test
    void evictingEventWindowsLeavesTheOtherKindsAlone(@TempDir Path dir) throws Exception {
        ProfileStore cpu = open(dir, ProfileKind.CPU, 1 << 30);
        Profile w0 = ProfileStoreTest.window(1_000_000L, 2);
        cpu.write(w0);
        ProfileStore mm = open(dir, ProfileKind.MMAP, 1 << 30);
        mm.write(mmap(w0));
        ProfileStore probe = open(dir.resolve("probe"), ProfileKind.OFF_CPU, 1 << 30);
        long one = probe.write(offCpu(w0)).bytes();
        // room for about two off-CPU windows
        ProfileStore off = open(dir, ProfileKind.OFF_CPU, one * 2 + one / 2);
        for (int i = 0; i < 5; i++) {
            off.write(offCpu(ProfileStoreTest.window(1_000_000L + i * 1000L, 2)));
        }
        assertThat(off.windowCount()).isBetween(1, 2);
        assertThat(off.evictedWindows()).isGreaterThanOrEqualTo(3);
        assertThat(cpu.windows()).hasSize(1);
        assertThat(Files.exists(cpu.file(w0.startEpochNanos() / 1_000_000, w0.durationNanos() / 1_000_000,
                ProfileStore.PPROF))).isTrue();
        assertThat(open(dir, ProfileKind.CPU, 1 << 30).windows()).hasSize(1);
        assertThat(open(dir, ProfileKind.MMAP, 1 << 30).windows()).hasSize(1);
    }

    @Test
    void aStoreRefusesAWindowOfAnotherKind(@TempDir Path dir) throws Exception {
        ProfileStore mm = open(dir, ProfileKind.MMAP, 1 << 20);
        Profile w = ProfileStoreTest.window(1_000_000L, 2);
        assertThatThrownBy(() -> mm.write(offCpu(w))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("off_cpu").hasMessageContaining("mmap_calls");
        assertThatThrownBy(() -> mm.write(w)).isInstanceOf(IllegalArgumentException.class);
        assertThat(mm.windows()).isEmpty();
    }
}
