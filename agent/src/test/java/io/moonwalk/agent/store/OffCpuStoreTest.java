package io.moonwalk.agent.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.profile.SampleType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The off-CPU store beside the CPU one in one directory (agent --off-cpu). */
class OffCpuStoreTest {
    private static Profile offCpu(Profile cpu) {
        // the same stacks, each blocked 1.5 ms per CPU sample it had
        return new Profile(cpu.startEpochNanos(), cpu.durationNanos(), 0, cpu.entries().stream()
                .map(e -> new Profile.Entry(e.process(), e.threadName(), e.frames(), e.labels(), e.count() * 1_500_000L))
                .toList(), SampleType.OFF_CPU);
    }

    private static ProfileStore open(Path dir, SampleType type, long bytes) throws Exception {
        return new ProfileStore(dir, bytes, Duration.ofHours(1), new ProfileStoreTest.ManualClock(1_010_000L), type);
    }

    @Test
    void bothTypesShareTheDirectoryAndEachReadsOnlyItsOwnWindowsAndIndex(@TempDir Path dir) throws Exception {
        ProfileStore cpu = open(dir, SampleType.CPU, 1 << 30);
        ProfileStore off = open(dir, SampleType.OFF_CPU, 1 << 30);
        for (int i = 0; i < 3; i++) {
            Profile w = ProfileStoreTest.window(1_000_000L + i * 1000L, 2 + i);
            cpu.write(w);
            off.write(offCpu(w));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .contains(StoreIndex.FILE, StoreIndex.OFF_CPU_FILE)
                    .filteredOn(n -> n.startsWith("offcpu-")).hasSize(6);
        }
        assertThat(Files.readAllLines(dir.resolve(StoreIndex.FILE)).getFirst()).isEqualTo("moonwalk-store-index\t1");
        assertThat(Files.readAllLines(dir.resolve(StoreIndex.OFF_CPU_FILE)).getFirst())
                .isEqualTo("moonwalk-store-index\t1\toff_cpu\tnanoseconds");

        List<WindowSummary> cpuWindows = cpu.windows();
        List<WindowSummary> offWindows = off.windows();
        // reopened, each store finds its own windows through its own index, none of the other's
        ProfileStore cpu2 = open(dir, SampleType.CPU, 1 << 30);
        ProfileStore off2 = open(dir, SampleType.OFF_CPU, 1 << 30);
        assertThat(cpu2.windows()).isEqualTo(cpuWindows);
        assertThat(off2.windows()).isEqualTo(offWindows);
        // the index summary of an off-CPU window counts blocked nanoseconds
        assertThat(offWindows.getFirst().samples()).isEqualTo(cpuWindows.getFirst().samples() * 1_500_000L);

        Profile merged = off2.merged(0, Long.MAX_VALUE, e -> true);
        assertThat(merged.sampleType()).isEqualTo(SampleType.OFF_CPU);
        assertThat(merged.periodNanos()).isZero();
        assertThat(merged.totalSamples()).isEqualTo(cpu2.merged(0, Long.MAX_VALUE, e -> true).totalSamples() * 1_500_000L);
        assertThat(cpu2.merged(0, Long.MAX_VALUE, e -> true).sampleType()).isEqualTo(SampleType.CPU);

        // without the index files both rebuild from their own window files only
        Files.delete(dir.resolve(StoreIndex.FILE));
        Files.delete(dir.resolve(StoreIndex.OFF_CPU_FILE));
        assertThat(open(dir, SampleType.OFF_CPU, 1 << 30).windows()).extracting(WindowSummary::samples)
                .isEqualTo(offWindows.stream().map(WindowSummary::samples).toList());
        assertThat(open(dir, SampleType.CPU, 1 << 30).windows()).extracting(WindowSummary::samples)
                .isEqualTo(cpuWindows.stream().map(WindowSummary::samples).toList());
    }

    @Test
    void evictingOffCpuWindowsLeavesTheCpuWindowsAlone(@TempDir Path dir) throws Exception {
        ProfileStore cpu = open(dir, SampleType.CPU, 1 << 30);
        Profile w0 = ProfileStoreTest.window(1_000_000L, 2);
        cpu.write(w0);
        ProfileStore probe = open(dir.resolve("probe"), SampleType.OFF_CPU, 1 << 30);
        long one = probe.write(offCpu(w0)).bytes();
        // room for about two off-CPU windows
        ProfileStore off = open(dir, SampleType.OFF_CPU, one * 2 + one / 2);
        for (int i = 0; i < 5; i++) {
            off.write(offCpu(ProfileStoreTest.window(1_000_000L + i * 1000L, 2)));
        }
        assertThat(off.windowCount()).isBetween(1, 2);
        assertThat(off.evictedWindows()).isGreaterThanOrEqualTo(3);
        assertThat(cpu.windows()).hasSize(1);
        assertThat(Files.exists(cpu.file(w0.startEpochNanos() / 1_000_000, w0.durationNanos() / 1_000_000,
                ProfileStore.PPROF))).isTrue();
        assertThat(open(dir, SampleType.CPU, 1 << 30).windows()).hasSize(1);
    }

    @Test
    void onlyCpuAndOffCpuStoresExist(@TempDir Path dir) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> open(dir, new SampleType("wall", "nanoseconds", false), 1 << 20))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CPU or off-CPU");
    }
}
