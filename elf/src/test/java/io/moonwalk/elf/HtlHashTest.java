package io.moonwalk.elf;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checked against coreutils: head, tail, printf and sha256sum compute the same digest the spec defines. */
@Tag("tools")
class HtlHashTest {

    private static String coreutils(Path f) {
        String script = "{ head -c 4096 \"$1\"; tail -c 4096 \"$1\"; "
                + "printf \"$(printf '%016x' $(stat -c %s \"$1\") | sed 's/../\\\\x&/g')\"; } | sha256sum | cut -c1-32";
        return Tools.run(null, "bash", "-c", script, "htl", f.toString()).trim();
    }

    @Test
    void matchesCoreutilsForALargeBinaryASmallFileAndAnEmptyOne(@TempDir Path dir) throws Exception {
        Path small = dir.resolve("small");
        Files.writeString(small, "hello, profiles");
        Path empty = dir.resolve("empty");
        Files.createFile(empty);
        for (Path f : new Path[] {Path.of("/usr/bin/ls"), small, empty}) {
            assertThat(HtlHash.of(f)).as("%s", f).isEqualTo(coreutils(f)).hasSize(32);
        }
    }
}
