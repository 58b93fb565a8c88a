package io.moonwalk.unwinder.cfi;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Real binaries for the tests: system libraries, and the C fixture built here by gcc with different flags. */
final class Fixtures {
    static final Path LIBC = Path.of("/usr/lib/x86_64-linux-gnu/libc.so.6");
    static final Path LIBLUAJIT = Path.of("/usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2");
    static final Path NGINX = Path.of("/usr/sbin/nginx");

    private static Path dir;

    private Fixtures() {
    }

    static Path omitFramePointer() {
        return build("cfi_omit_fp", "-O2", "-fomit-frame-pointer");
    }

    static Path framePointer() {
        return build("cfi_fp", "-O2", "-fno-omit-frame-pointer");
    }

    /** No asynchronous unwind tables: gcc puts the fixture's own CFI in .debug_frame. */
    static Path debugFrame() {
        return build("cfi_debug_frame", "-O1", "-g", "-fno-asynchronous-unwind-tables");
    }

    private static synchronized Path build(String name, String... flags) {
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("moonwalk-cfi");
                dir.toFile().deleteOnExit();
                try (InputStream in = Fixtures.class.getResourceAsStream("/unwind/cfi_fixture.c")) {
                    Files.copy(in, dir.resolve("cfi_fixture.c"), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Path out = dir.resolve(name);
            if (!Files.exists(out)) {
                String[] cmd = new String[flags.length + 4];
                cmd[0] = "gcc";
                System.arraycopy(flags, 0, cmd, 1, flags.length);
                cmd[flags.length + 1] = dir.resolve("cfi_fixture.c").toString();
                cmd[flags.length + 2] = "-o";
                cmd[flags.length + 3] = out.toString();
                ExternalTool.run(cmd);
                out.toFile().deleteOnExit();
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
