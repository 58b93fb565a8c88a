package io.moonwalk.symbolize.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("tools")
class KernelBuildIdsTest {

    /** perf reads the running kernel's build id its own way: the ground truth. */
    @Test
    void kernelBuildIdMatchesPerf() {
        String expected = Tools.run(null, "perf", "buildid-list", "-k").trim();
        assertThat(new KernelBuildIds().kernel()).isEqualTo(expected).hasSizeGreaterThanOrEqualTo(16);
    }

    @Test
    void malformedOrMissingNotesGiveNoId(@TempDir Path sys) throws Exception {
        Files.createDirectories(sys.resolve("kernel"));
        Files.write(sys.resolve("kernel/notes"), new byte[] {4, 0, 0, 0, (byte) 0xff, (byte) 0xff, 0, 0, 3, 0, 0, 0});
        assertThat(new KernelBuildIds(sys).kernel()).isEmpty();
        assertThat(new KernelBuildIds(sys).module("nf_tables")).isEmpty();
        assertThat(new KernelBuildIds(sys).module("../kernel")).isEmpty();
    }
}
