package io.moonwalk.agent.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A CPU-burning child process with a known call structure (main -> spin_outer -> spin_inner),
 * built with frame pointers so the kernel's user-stack walk can follow it. With the argument
 * "syscalls" spin_outer also reads /dev/zero, so some samples land in the kernel.
 */
final class Burner {
    private static final String SOURCE = """
            #include <fcntl.h>
            #include <unistd.h>

            static char buf[1 << 16];
            volatile unsigned long sink;

            __attribute__((noinline)) void spin_inner(void)
            {
                for (unsigned long i = 0; i < 3000000; i++)
                    sink += i * i;
            }

            __attribute__((noinline)) void spin_outer(int fd)
            {
                spin_inner();
                for (int i = 0; fd >= 0 && i < 512; i++)
                    if (read(fd, buf, sizeof buf) < 0)
                        _exit(3);
            }

            int main(int argc, char **argv)
            {
                int fd = argc > 1 ? open("/dev/zero", O_RDONLY) : -1;
                for (;;)
                    spin_outer(fd);
            }
            """;

    private static Burner instance;

    final Path exe;
    /** name -> {value, size} from nm -S (link-time addresses; the executable is PIE) */
    final Map<String, long[]> symbols = new HashMap<>();

    private Burner(Path exe) throws IOException, InterruptedException {
        this.exe = exe;
        for (String line : run("nm", "-S", exe.toString()).split("\n")) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 4 && (p[2].equals("T") || p[2].equals("t"))) {
                symbols.put(p[3], new long[] {Long.parseUnsignedLong(p[0], 16), Long.parseUnsignedLong(p[1], 16)});
            }
        }
        assertThat(symbols).containsKeys("main", "spin_outer", "spin_inner");
    }

    static synchronized Burner get() throws IOException, InterruptedException {
        if (instance == null) {
            Path dir = Files.createTempDirectory("moonwalk-burner");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            Path src = dir.resolve("burner.c");
            Files.writeString(src, SOURCE);
            Path exe = dir.resolve("burner");
            run("gcc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", exe.toString(), src.toString());
            instance = new Burner(exe);
        }
        return instance;
    }

    Process start(boolean syscalls) throws IOException {
        List<String> cmd = syscalls ? List.of(exe.toString(), "syscalls") : List.of(exe.toString());
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Runtime address range [start, end) of {@code symbol} in process {@code pid}, from /proc/PID/maps. */
    long[] runtimeRange(long pid, String symbol) throws IOException {
        long base = loadBase(pid);
        long[] s = symbols.get(symbol);
        return new long[] {base + s[0], base + s[0] + s[1]};
    }

    /** Executable mappings of the burner binary in {@code pid}, as [start, end) pairs. */
    List<long[]> executableMappings(long pid) throws IOException {
        String path = exe.toRealPath().toString();
        return Files.readAllLines(Path.of("/proc/" + pid + "/maps")).stream()
                .map(l -> l.split("\\s+"))
                .filter(p -> p.length >= 6 && p[5].equals(path) && p[1].contains("x"))
                .map(p -> p[0].split("-"))
                .map(r -> new long[] {Long.parseUnsignedLong(r[0], 16), Long.parseUnsignedLong(r[1], 16)})
                .toList();
    }

    /** The burner's PIE load bias: start of its mapping at file offset 0 (its first PT_LOAD is at vaddr 0). */
    private long loadBase(long pid) throws IOException {
        String path = exe.toRealPath().toString();
        return Files.readAllLines(Path.of("/proc/" + pid + "/maps")).stream()
                .map(l -> l.split("\\s+"))
                .filter(p -> p.length >= 6 && p[5].equals(path) && Long.parseLong(p[2], 16) == 0)
                .map(p -> Long.parseUnsignedLong(p[0].split("-")[0], 16))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no mapping of " + path + " in /proc/" + pid + "/maps"));
    }

    /** User + system CPU time of {@code pid} in seconds, from /proc/PID/stat. */
    static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields 14 and 15 of stat(5); f[0] is field 3
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // USER_HZ is 100 on Linux
    }

    static void stop(Process p) throws InterruptedException {
        p.destroyForcibly();
        assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s failed:%n%s", String.join(" ", cmd), out).isZero();
        return out;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
