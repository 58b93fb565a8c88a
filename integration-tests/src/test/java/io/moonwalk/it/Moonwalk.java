package io.moonwalk.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the built moonwalk jar as a user would, and the C fixtures it profiles. */
final class Moonwalk {
    static final Path JAR = Paths.get(System.getProperty("moonwalk.jar", "../agent/target/moonwalk.jar"))
            .toAbsolutePath().normalize();
    static final Path ROOT = Paths.get(System.getProperty("moonwalk.root", "..")).toAbsolutePath().normalize();
    static final Path WORK = Paths.get(System.getProperty("moonwalk.work", "target/it-work")).toAbsolutePath();

    static {
        try {
            // every test may put files here, whichever runs first
            Files.createDirectories(WORK);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot create the integration-test work directory " + WORK, e);
        }
    }

    private Moonwalk() {
    }

    record Result(int exitCode, String stdout, String stderr) {
    }

    static ProcessBuilder command(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(args);
        return new ProcessBuilder(cmd);
    }

    static Result run(Duration timeout, String... args) throws IOException, InterruptedException {
        return run(command(List.of(args)), timeout);
    }

    static Result run(ProcessBuilder pb, Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(WORK);
        Path out = Files.createTempFile(WORK, "stdout", ".txt");
        Path err = Files.createTempFile(WORK, "stderr", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("timed out after " + timeout + ": " + pb.command()
                    + "\nstderr: " + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Compiles testdata/native/NAME.c with gcc and the given flags; returns the executable. */
    static Path compile(String name, String... flags) throws IOException, InterruptedException {
        Files.createDirectories(WORK);
        Path exe = WORK.resolve(name + "-" + Integer.toHexString(String.join(" ", flags).hashCode()));
        List<String> cmd = new ArrayList<>(List.of("gcc"));
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("-o", exe.toString(), ROOT.resolve("testdata/native/" + name + ".c").toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError("gcc failed: " + cmd + "\n" + log);
        }
        return exe;
    }

    /** Runs a command and returns its stdout; fails the test when it exits non-zero. */
    static String tool(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String outText = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + List.of(cmd));
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(List.of(cmd) + " exited " + p.exitValue() + ":\n" + outText);
        }
        return outText;
    }

    static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines()
                    .anyMatch(l -> l.matches("Uid:\\s+\\d+\\s+0\\s.*"));
        } catch (IOException e) {
            return false;
        }
    }

    /** CPU time (user + system) the process has used so far, in seconds, from /proc/PID/stat. */
    static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields 14 and 15 (utime, stime) are at 11 and 12 after the command name
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }
}
