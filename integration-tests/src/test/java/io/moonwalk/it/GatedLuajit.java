package io.moonwalk.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.testfixtures.SyscallCounts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A LuaJIT workload of testdata/lua that holds its measured calls until a go file exists and stays alive (blocked on
 * stdin) after them (testdata/lua/mcode_churn.lua, mcode_storm.lua limit|crowd): observers attach before its first
 * call and detach after its last, so every observer counts the same calls. The ground truth for its mmap, munmap and
 * mprotect calls comes from {@link SyscallCounts} attached the same way ({@link #count}).
 */
final class GatedLuajit implements AutoCloseable {
    /** In the arguments, replaced by the go file's path. */
    static final String GO = "%GO%";
    static final String[] MMAP_CALLS = {"mmap", "munmap", "mprotect"};

    final Process process;
    private final Path go;
    private final BufferedReader out;
    private final List<SyscallCounts.Counting> counts = new ArrayList<>();
    private long goNanos = -1;
    private long doneNanos = -1;

    private GatedLuajit(Process process, Path go) {
        this.process = process;
        this.go = go;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Starts {@code luajit testdata/lua/SCRIPT ARGS} with {@link #GO} in the arguments standing for a go file in dir. */
    static GatedLuajit start(Path dir, String script, String... args) throws IOException {
        Path go = Files.createDirectories(dir).resolve("go");
        Files.deleteIfExists(go);
        List<String> cmd = new ArrayList<>(List.of("luajit", Moonwalk.ROOT.resolve("testdata/lua/" + script).toString()));
        for (String a : args) {
            cmd.add(a.equals(GO) ? go.toString() : a);
        }
        assertThat(cmd).as("the workload takes a go file").contains(go.toString());
        return new GatedLuajit(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start(), go);
    }

    long pid() {
        return process.pid();
    }

    /** The workload's next line on stdout (null at its end). */
    String readLine() throws IOException {
        return out.readLine();
    }

    /** Lets the workload start its calls. */
    void go() throws IOException {
        goNanos = System.nanoTime();
        Files.writeString(go, "go\n");
    }

    /**
     * Reads the workload's lines until one starts with {@code prefix} (its last line before it blocks: its calls are
     * done) and returns it; fails when the workload ends first.
     */
    String awaitDone(String prefix) throws IOException {
        for (String l; (l = out.readLine()) != null; ) {
            if (l.startsWith(prefix)) {
                doneNanos = System.nanoTime();
                return l;
            }
        }
        throw new AssertionError("the workload ended without a line starting with '" + prefix + "' (exit "
                + (process.isAlive() ? "none" : process.exitValue()) + ")");
    }

    /**
     * Counts the workload's mapping calls ({@link #MMAP_CALLS}) with strace or perf ({@code tool}) from before
     * {@link #go()} until after {@link #awaitDone}: start one with {@link #count}, then go, await, {@link
     * Count#stop()}.
     */
    Count count(String tool) throws InterruptedException {
        SyscallCounts.Counting c = tool.equals("strace") ? SyscallCounts.startStrace(pid(), MMAP_CALLS)
                : SyscallCounts.startPerf(pid(), MMAP_CALLS);
        counts.add(c);
        return new Count(c.awaitCounting(Duration.ofSeconds(30)));
    }

    /** A ground-truth count running over the workload's calls. */
    final class Count {
        private final SyscallCounts.Counting counting;

        private Count(SyscallCounts.Counting counting) {
            this.counting = counting;
        }

        /** The counts; fails unless the tool surely counted from the go until the workload was done. */
        SyscallCounts stop() {
            assertThat(goNanos).as("go() before stop()").isPositive();
            assertThat(doneNanos).as("awaitDone() before stop()").isPositive();
            try {
                return counting.stop().coveringAll(goNanos, doneNanos);
            } finally {
                counting.close();
            }
        }
    }

    /** Ends the counts still running, closes the workload's stdin (it exits), then ends it if it does not in 10 s. */
    @Override
    public void close() throws Exception {
        counts.forEach(SyscallCounts.Counting::close);
        process.getOutputStream().close();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
