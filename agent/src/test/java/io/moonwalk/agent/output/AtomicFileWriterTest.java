package io.moonwalk.agent.output;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Tag("pure")
class AtomicFileWriterTest {

    private static String[] list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }

    @Test
    void replacesTheTargetAndLeavesNoTemporaryFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("p.folded");
        Files.writeString(target, "old\n");
        AtomicFileWriter.write(target, out -> out.write("new\n".getBytes(StandardCharsets.UTF_8)));
        assertThat(Files.readString(target)).isEqualTo("new\n");
        assertThat(list(dir)).containsExactly("p.folded");
    }

    @Test
    void failureWhileWritingKeepsTheOldFileAndRemovesTheTemporaryOne(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("p.html");
        Files.writeString(target, "complete old profile");
        assertThatThrownBy(() -> AtomicFileWriter.write(target, out -> {
            out.write(new byte[200_000]); // more than the buffer, so part of it reached the temp file
            throw new IOException("disk on fire");
        })).hasMessage("disk on fire");
        assertThat(Files.readString(target)).isEqualTo("complete old profile");
        assertThat(list(dir)).containsExactly("p.html");

        assertThatThrownBy(() -> AtomicFileWriter.write(dir.resolve("new.html"), out -> {
            throw new IllegalStateException("bug in a writer");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(list(dir)).containsExactly("p.html");
    }

    @Test
    void unwritableDirectoryGivesAnIOExceptionNamingThePath() {
        // /sys refuses new files even for root, unlike a chmod'ed directory.
        Path target = Path.of("/sys/kernel/moonwalk-test-profile.html");
        assertThatThrownBy(() -> AtomicFileWriter.write(target, out -> out.write(1)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(target.toString())
                .hasMessageContaining("not writable");
        assertThat(target).doesNotExist();
    }

    @Test
    void missingDirectoryOrFileAsDirectoryGivesAnIOExceptionNamingThePath(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("no/such/dir/p.pb.gz");
        assertThatThrownBy(() -> AtomicFileWriter.write(missing, out -> out.write(1)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("does not exist");
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        Path under = file.resolve("p.pb.gz");
        assertThatThrownBy(() -> AtomicFileWriter.write(under, out -> out.write(1)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(under.toString());
        assertThat(list(dir)).containsExactly("plain-file");
    }

    @Test
    void targetThatIsADirectoryFailsWithoutLeftovers(@TempDir Path dir) throws IOException {
        Path target = Files.createDirectories(dir.resolve("p.folded"));
        Files.writeString(target.resolve("inside"), "x");
        assertThatThrownBy(() -> AtomicFileWriter.write(target, out -> out.write(1)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(target.toString());
        assertThat(list(dir)).containsExactly("p.folded");
    }
}
