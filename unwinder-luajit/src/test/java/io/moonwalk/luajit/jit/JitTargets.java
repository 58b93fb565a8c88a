package io.moonwalk.luajit.jit;

import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.detect.Detection;
import io.moonwalk.luajit.detect.LuajitDetector;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.elf.ElfFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real luajit executables the JIT-state tests run: the installed OpenResty luajit2 (GC64), upstream's
 * from the Debian .deb (GC64, unpacked, never installed), and the symbol builds of both flavours in both GC
 * modes made by {@code testdata/luajit/build-fixtures.sh} (idempotent; a failure fails the test, never skips).
 * The layout of each comes from {@link LuajitDetector} on the executable, as the agent will do it.
 */
enum JitTargets {
    INSTALLED_OPENRESTY_GC64(null),
    UPSTREAM_DEB_GC64("upstream-deb/usr/bin/luajit"),
    OPENRESTY_GC64_BUILD("build/openresty-gc64/src/luajit"),
    OPENRESTY_NOGC64_BUILD("build/openresty-nogc64/src/luajit"),
    UPSTREAM_GC64_BUILD("build/upstream-gc64/src/luajit"),
    UPSTREAM_NOGC64_BUILD("build/upstream-nogc64/src/luajit");

    private final String relative;
    private LuajitLayout layout;
    private static Path fixtureRoot;

    JitTargets(String relative) {
        this.relative = relative;
    }

    Path exe() {
        return relative == null ? Path.of("/usr/bin/luajit") : fixtureRoot().resolve(relative);
    }

    /** Extra environment: the .deb's own library directory (its luajit is static today; keep it honest anyway). */
    String libraryPath() {
        return this == UPSTREAM_DEB_GC64 ? fixtureRoot().resolve("upstream-deb/usr/lib/x86_64-linux-gnu").toString()
                : null;
    }

    synchronized LuajitLayout layout() throws Exception {
        if (layout == null) {
            Path exe = exe();
            try (ElfFile elf = ElfFile.open(exe)) {
                Detection d = new LuajitDetector().detect(elf, exe);
                assertThat(d).as("%s: %s", exe, d.why().orElse("")).isInstanceOf(Detection.Found.class);
                layout = d.found().orElseThrow().layout();
            }
        }
        return layout;
    }

    static synchronized Path fixtureRoot() {
        if (fixtureRoot == null) {
            Path dir = Path.of(System.getProperty("moonwalk.luajit.fixtures", "/var/cache/moonwalk-fixtures/luajit"));
            run(1800, "bash", repoRoot().resolve("testdata/luajit/build-fixtures.sh").toString(), dir.toString());
            fixtureRoot = dir;
        }
        return fixtureRoot;
    }

    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("testdata/luajit/build-fixtures.sh"))) {
                return p;
            }
        }
        throw new AssertionError("testdata/luajit/build-fixtures.sh not found above " + Path.of("").toAbsolutePath());
    }

    static Path lua(String name) {
        return repoRoot().resolve("testdata/lua").resolve(name);
    }

    static String run(long timeoutSeconds, String... cmd) {
        try {
            Path log = Files.createTempFile("moonwalk-jit", ".out");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd));
                }
                String out = Files.readString(log);
                if (p.exitValue() != 0) {
                    throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + out);
                }
                return out;
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd[0] + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Compiles a C probe against a fixture build's sources (with {@code define}, e.g. -DLUAJIT_DISABLE_GC64, unless
     * null), runs it and returns its "name value" lines: the compiler's own offsetof/sizeof/constants as ground truth.
     */
    static Map<String, Long> compiledFacts(String build, String define, String probeSource)
            throws Exception {
        Path src = fixtureRoot().resolve("build").resolve(build).resolve("src");
        Path dir = Files.createTempDirectory("moonwalk-probe");
        Path c = dir.resolve("probe.c");
        Files.writeString(c, probeSource);
        Path exe = dir.resolve("probe");
        if (define == null) {
            run(120, "gcc", "-I" + src, c.toString(), "-o", exe.toString());
        } else {
            run(120, "gcc", define, "-I" + src, c.toString(), "-o", exe.toString());
        }
        Map<String, Long> facts = new HashMap<>();
        for (String line : run(30, exe.toString()).split("\n")) {
            String[] t = line.trim().split(" ");
            facts.put(t[0], Long.parseLong(t[1]));
        }
        return facts;
    }
}
