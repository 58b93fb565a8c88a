package io.moonwalk.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.agent.bench.UnwindTableBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code moonwalk bench --unwind-table}: figures for a real file, and one line + exit 2 for a wrong combination. */
@Tag("pure")
class BenchUnwindTableTest {
    private static final Path LIBC = Path.of("/lib/x86_64-linux-gnu/libc.so.6");

    @Test
    void timesColdAndWarmBuildsOfLibc() throws Exception {
        assertThat(LIBC).isRegularFile();
        UnwindTableBenchmark.Result r = UnwindTableBenchmark.run(LIBC, 2);
        // libc's .eh_frame holds ~3700 FDEs (readelf --debug-dump=frames); its table has rows for each
        assertThat(r.entries()).isGreaterThan(3700);
        assertThat(r.coldNanos()).isPositive();
        assertThat(r.coldCpuNanos()).isPositive();
        assertThat(r.warmNanos()).hasSize(2);
        assertThat(java.util.Arrays.stream(r.warmNanos()).min().orElseThrow()).isPositive();
    }

    @Test
    void needsExactlyOneMode() {
        assertThat(Main.run("bench")).isEqualTo(Main.EXIT_USAGE);
        assertThat(Main.run("bench", "--pid", "1", "--unwind-table", LIBC.toString())).isEqualTo(Main.EXIT_USAGE);
        assertThat(Main.run("bench", "--unwind-table", LIBC.toString(), "--repeat", "-1")).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void aFileThatIsNotElfIsARuntimeErrorNotACrash() throws Exception {
        Path junk = Files.createTempFile("not-elf", ".so");
        Files.writeString(junk, "this is not an ELF file");
        try {
            assertThat(Main.run("bench", "--unwind-table", junk.toString(), "--repeat", "0"))
                    .isEqualTo(Main.EXIT_RUNTIME);
        } finally {
            Files.delete(junk);
        }
    }
}
