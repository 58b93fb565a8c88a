package io.moonwalk.testfixtures;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the current test class path in a child JVM with a small heap and a deadline,
 * so a test can show that a parser refuses a crafted file within fixed time and memory (an
 * allocation proportional to a size the file claims would end the child with OutOfMemoryError).
 */
public final class BoundedJvm {
    private BoundedJvm() {}

    public record Outcome(int exitCode, boolean timedOut, String output, long millis) {}

    public static Outcome run(String heap, long timeoutSeconds, Class<?> main, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Outcome(done ? p.exitValue() : -1, !done, out, (System.nanoTime() - t0) / 1_000_000);
    }
}
