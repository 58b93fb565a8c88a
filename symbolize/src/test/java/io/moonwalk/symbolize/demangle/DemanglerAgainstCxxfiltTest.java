package io.moonwalk.symbolize.demangle;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every C++ symbol of real libraries on this machine, demangled by us and by GNU c++filt; both the
 * full form and the short form ({@code c++filt -p}) must agree on at least 99.5 % of the names.
 */
@Tag("tools")
class DemanglerAgainstCxxfiltTest {
    private static final double REQUIRED = 0.995;
    private static final Path LIBSTDCXX = Path.of("/usr/lib/x86_64-linux-gnu/libstdc++.so.6");
    private static final Path LIBJVM = Path.of(System.getProperty("java.home"), "lib/server/libjvm.so");
    private static final Path LIBDIR = Path.of("/usr/lib/x86_64-linux-gnu");
    /** c++filt keeps Rust's hash; we drop it like rustc-demangle's alternate form. */
    private static final Pattern RUST_HASH = Pattern.compile("::h[0-9a-f]{16}$");

    @Test
    void libstdcxxMatchesCxxfilt() {
        assertThat(LIBSTDCXX).exists();
        List<String> names = Cxxfilt.mangledSymbols(true, List.of(LIBSTDCXX.toString()));
        assertThat(names).hasSizeGreaterThan(3000);
        compare("libstdc++", names, true);
        compare("libstdc++ (short form)", names, false);

        long start = System.nanoTime();
        long chars = 0;
        for (String n : names) {
            chars += Demangler.demangle(n).length();
        }
        long micros = (System.nanoTime() - start) / 1000;
        System.out.printf("demangled %d libstdc++ symbols (%d chars) in %d ms (%.1f us/symbol)%n",
                names.size(), chars, micros / 1000, (double) micros / names.size());
    }

    @Test
    void libjvmMatchesCxxfilt() {
        assertThat(LIBJVM).exists();
        // The full symbol table (tens of thousands of names, many local templates and clones).
        List<String> names = Cxxfilt.mangledSymbols(false, List.of(LIBJVM.toString()));
        assertThat(names).hasSizeGreaterThan(20_000);
        compare("libjvm", names, true);
        compare("libjvm (short form)", sample(names, 10_000, 25L), false);
    }

    @Test
    void otherSystemLibrariesMatchCxxfilt() throws IOException {
        List<String> files;
        try (Stream<Path> s = Files.list(LIBDIR)) {
            files = s.filter(p -> p.getFileName().toString().contains(".so") && Files.isRegularFile(p))
                    .map(Path::toString).sorted().toList();
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < files.size(); i += 64) {
            names.addAll(Cxxfilt.mangledSymbols(true, files.subList(i, Math.min(files.size(), i + 64))));
        }
        names = names.stream().distinct().sorted().toList();
        assertThat(names).as("C++ symbols in %s", LIBDIR).hasSizeGreaterThan(5_000);
        List<String> sampled = sample(names, 30_000, 7L);
        compare("system libraries (" + files.size() + " files, " + names.size() + " names, sampled)", sampled, true);
        compare("system libraries (short form)", sample(names, 10_000, 8L), false);
    }

    private static List<String> sample(List<String> names, int n, long seed) {
        if (names.size() <= n) {
            return names;
        }
        List<String> copy = new ArrayList<>(names);
        Collections.shuffle(copy, new Random(seed));
        return copy.subList(0, n);
    }

    private static void compare(String what, List<String> names, boolean params) {
        List<String> expected = Cxxfilt.demangle(names, params);
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            String got = Demangler.demangle(names.get(i), params);
            String want = expected.get(i);
            if (!got.equals(want) && !got.equals(RUST_HASH.matcher(want).replaceFirst(""))) {
                mismatches.add(names.get(i) + "\n    c++filt: " + want + "\n    ours:    " + got);
            }
        }
        double rate = 1.0 - (double) mismatches.size() / names.size();
        System.out.printf("%s: %d names, %d mismatches, %.4f %% identical%n", what, names.size(),
                mismatches.size(), rate * 100);
        mismatches.stream().limit(10).forEach(m -> System.out.println("  " + m));
        assertThat(rate).as("%s: identical to c++filt; first mismatches:%n%s", what,
                String.join("\n", mismatches.stream().limit(10).toList())).isGreaterThanOrEqualTo(REQUIRED);
    }
}
