package io.moonwalk.symbolize.demangle;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The ground truth: GNU c++filt (binutils), fed every name through one process. */
final class Cxxfilt {
    private Cxxfilt() {
    }

    /** c++filt's rendering of each name, in order; {@code includeParameters=false} runs {@code c++filt -p}. */
    static List<String> demangle(List<String> names, boolean includeParameters) {
        List<String> cmd = includeParameters ? List.of("c++filt") : List.of("c++filt", "-p");
        String out = run(cmd, String.join("\n", names) + "\n", false);
        List<String> lines = out.lines().toList();
        if (lines.size() != names.size()) {
            throw new AssertionError("c++filt returned " + lines.size() + " lines for " + names.size() + " names");
        }
        return lines;
    }

    /**
     * Runs a tool with the given stdin; fails the test if it is missing or (unless
     * {@code tolerateExitCode}) exits non-zero.
     */
    static String run(List<String> cmd, String stdin, boolean tolerateExitCode) {
        String shown = cmd.size() > 4 ? String.join(" ", cmd.subList(0, 4)) + " ..." : String.join(" ", cmd);
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            byte[] bytes = out.get(120, TimeUnit.SECONDS);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(shown + " timed out");
            }
            if (!tolerateExitCode && p.exitValue() != 0) {
                throw new AssertionError(shown + " failed (exit " + p.exitValue() + ")");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd.get(0) + " (binutils/gcc installed?): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (Exception e) {
            throw new AssertionError(shown + ": " + e, e);
        }
    }

    /** Defined {@code _Z} symbols of {@code files} as nm lists them, versions removed, deduplicated. */
    static List<String> mangledSymbols(boolean dynamic, List<String> files) {
        List<String> cmd = new ArrayList<>(List.of("nm", "--defined-only"));
        if (dynamic) {
            cmd.add("-D");
        }
        cmd.addAll(files);
        // A batch may include linker scripts (libc.so) that nm rejects; the real objects still list.
        String out = run(cmd, null, files.size() > 1);
        return out.lines().map(l -> l.substring(l.lastIndexOf(' ') + 1))
                .map(n -> n.indexOf('@') > 0 ? n.substring(0, n.indexOf('@')) : n)
                .filter(n -> n.startsWith("_Z")).distinct().sorted().toList();
    }
}
