package io.moonwalk.agent.store;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of the store's pprof reader (the web view reads windows back from disk,
 * where anything may have been written): any protobuf body, gzipped as the store writes it, gives a
 * profile, an IOException or a {@link StoreException} naming the inconsistency, nothing else. Seeds: windows written by the store's own tests.
 */
@Tag("pure")
class PprofReaderFuzzTest {
    private static Path file;

    @FuzzTest(maxDuration = "30s")
    void read(byte[] body) throws IOException {
        if (file == null) {
            file = Files.createTempFile("moonwalk-pprof-fuzz", ".pb.gz");
            file.toFile().deleteOnExit();
        }
        try (GZIPOutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(body);
        }
        try {
            PprofReader.read(file);
        } catch (IOException | StoreException expected) {
            // a protobuf parse error or an inconsistent window (StoreException names it): skipped, never a crash
        }
    }
}
