package io.moonwalk.luajit.detect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs a real tool (objdump, nm, gdb, the fixture script) and returns its output; failures fail the test. */
final class Run {
    private Run() {
    }

    static String run(long timeoutSeconds, String... cmd) {
        try {
            Path log = java.nio.file.Files.createTempFile("moonwalk-run", ".out");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd));
                }
                String text = java.nio.file.Files.readString(log, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + text);
                }
                return text;
            } finally {
                java.nio.file.Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd[0] + " (is it installed?): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
