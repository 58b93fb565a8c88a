package io.moonwalk.testfixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * C programs compiled with the real gcc once per test JVM: a shared library, an executable (PIE and
 * non-PIE) that calls it, stripped copies, and a separate debug file with a debuglink.
 */
public final class Fixtures {
    private static final String LIB_C = """
            #include <stdint.h>
            __attribute__((noinline)) uint64_t fix_mix(uint64_t x) {
                x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; return x;
            }
            __attribute__((noinline)) uint64_t fix_work(uint64_t n) {
                uint64_t a = 0;
                for (uint64_t i = 0; i < n; i++) a += fix_mix(a + i);
                return a;
            }
            static __attribute__((noinline)) int fix_local_helper(int v) { return v * 3 + 1; }
            int fix_public_uses_local(int v) { return fix_local_helper(v) + 1; }
            static int fix_impl_a(void) { return 1; }
            static void *fix_resolve(void) { return (void *) fix_impl_a; }
            int fix_ifunc(void) __attribute__((ifunc("fix_resolve")));
            int fix_alias_target(int v) { return v + 7; }
            int fix_alias(int) __attribute__((alias("fix_alias_target")));
            """;

    private static final String MAIN_C = """
            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include <unistd.h>
            #include <fcntl.h>
            #include <sys/mman.h>
            uint64_t fix_work(uint64_t n);
            volatile uint64_t sink;
            __attribute__((noinline)) void main_spin(void) {
                for (;;) { sink += fix_work(1000); usleep(2000); }
            }
            int main(int argc, char **argv) {
                if (argc > 2 && strcmp(argv[1], "map") == 0) {
                    /* map an arbitrary file executable, to test unreadable/corrupt code files */
                    int fd = open(argv[2], O_RDONLY);
                    if (fd < 0) { perror("open"); return 2; }
                    void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
                    if (p == MAP_FAILED) { perror("mmap"); return 2; }
                    printf("mapped %p\\n", p);
                }
                printf("ready\\n");
                fflush(stdout);
                main_spin();
                return 0;
            }
            """;

    private static volatile Fixtures instance;

    public final Path dir;
    public final Path lib;
    public final Path libStripped;
    public final Path libDebug;
    public final Path exe;
    public final Path exeStripped;
    public final Path exeNoPie;

    private Fixtures(Path dir) {
        this.dir = dir;
        this.lib = dir.resolve("libfix.so");
        this.libStripped = dir.resolve("stripped/libfix.so");
        this.libDebug = dir.resolve("libfix.debug");
        this.exe = dir.resolve("fixmain");
        this.exeStripped = dir.resolve("stripped/fixmain");
        this.exeNoPie = dir.resolve("fixmain-nopie");
    }

    public static Fixtures get() {
        Fixtures f = instance;
        if (f == null) {
            synchronized (Fixtures.class) {
                f = instance;
                if (f == null) {
                    f = build();
                    instance = f;
                }
            }
        }
        return f;
    }

    private static Fixtures build() {
        try {
            Path dir = Files.createTempDirectory("moonwalk-elf-fixtures");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            Files.createDirectories(dir.resolve("stripped"));
            Files.writeString(dir.resolve("libfix.c"), LIB_C);
            Files.writeString(dir.resolve("main.c"), MAIN_C);
            Fixtures f = new Fixtures(dir);
            Tools.run(dir, "gcc", "-O2", "-g", "-shared", "-fPIC", "-Wl,--build-id", "-o", "libfix.so", "libfix.c");
            Tools.run(dir, "gcc", "-O2", "-g", "-Wl,--build-id", "-o", "fixmain", "main.c", "-L.", "-lfix",
                    "-Wl,-rpath,$ORIGIN");
            Tools.run(dir, "gcc", "-O2", "-g", "-no-pie", "-Wl,--build-id", "-o", "fixmain-nopie", "main.c", "-L.",
                    "-lfix", "-Wl,-rpath,$ORIGIN");
            Tools.run(dir, "objcopy", "--only-keep-debug", "libfix.so", "libfix.debug");
            Tools.run(dir, "strip", "-o", "stripped/libfix.so", "libfix.so");
            Tools.run(dir, "objcopy", "--add-gnu-debuglink=libfix.debug", "stripped/libfix.so");
            Tools.run(dir, "strip", "-o", "stripped/fixmain", "fixmain");
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at JVM exit
        }
    }
}
