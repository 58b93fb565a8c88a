package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each user error gives one clear line, a non-zero exit, and no output file. */
class RecordErrorsIT {

    private static void assertOneClearLine(Moonwalk.Result r, String expectedFragment) {
        assertThat(r.exitCode()).as(r.stderr()).isNotZero();
        List<String> lines = r.stderr().lines().filter(l -> !l.isBlank() && !l.startsWith("WARNING")).toList();
        assertThat(lines).as("stderr: " + r.stderr()).hasSize(1);
        assertThat(lines.get(0)).containsIgnoringCase(expectedFragment);
    }

    @Test
    void noSuchPid() throws Exception {
        int pid = 4_000_000;
        while (Files.exists(Path.of("/proc/" + pid))) {
            pid++;
        }
        Path out = Moonwalk.WORK.resolve("nopid.folded");
        Files.deleteIfExists(out);
        Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(30), "record", "--pid", String.valueOf(pid),
                "--duration", "1s", "--output", out.toString());
        assertOneClearLine(r, "no such process");
        assertThat(out).doesNotExist();
    }

    @Test
    void unwritableOutput() throws Exception {
        Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(30), "record", "--duration", "1s",
                "--output", "/proc/moonwalk-no-such-dir/profile.html");
        assertOneClearLine(r, "/proc/moonwalk-no-such-dir");
    }

    @Test
    void unknownExtension() throws Exception {
        Path out = Moonwalk.WORK.resolve("profile.txt");
        Files.deleteIfExists(out);
        Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(30), "record", "--duration", "1s", "--output", out.toString());
        assertOneClearLine(r, ".html");
        assertThat(out).doesNotExist();
    }

    @Test
    void badDuration() throws Exception {
        Moonwalk.Result r = Moonwalk.run(Duration.ofSeconds(30), "record", "--duration", "soon", "--output", "x.folded");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("soon").contains("duration");
    }

    @Test
    void notRootIsRefusedWithAClearLine() throws Exception {
        Path outDir = Files.createTempDirectory(Moonwalk.WORK, "nobody");
        outDir.toFile().setWritable(true, false);
        Path out = outDir.resolve("p.folded");
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all"));
        cmd.addAll(Moonwalk.command(List.of("record", "--duration", "1s", "--output", out.toString())).command());
        Moonwalk.Result r = Moonwalk.run(new ProcessBuilder(cmd), Duration.ofSeconds(30));
        assertOneClearLine(r, "root");
        assertThat(out).doesNotExist();
    }
}
