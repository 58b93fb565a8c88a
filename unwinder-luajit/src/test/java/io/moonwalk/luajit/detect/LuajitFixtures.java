package io.moonwalk.luajit.detect;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The LuaJIT binaries built or unpacked by {@code testdata/luajit/build-fixtures.sh}. The script runs
 * once (it is cached and idempotent); if it fails, the tests that need it fail — they never skip.
 * The cache directory is {@code -Dmoonwalk.luajit.fixtures=DIR}, else /var/cache/moonwalk-fixtures/luajit.
 */
final class LuajitFixtures {
    static final Path INSTALLED_LIB = Path.of("/usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2");
    static final Path INSTALLED_EXE = Path.of("/usr/bin/luajit");

    private static Path root;

    private LuajitFixtures() {
    }

    /** Symbol builds from the Debian source packages. */
    enum Variant {
        OPENRESTY_GC64("openresty-gc64", Flavor.OPENRESTY, true),
        OPENRESTY_NOGC64("openresty-nogc64", Flavor.OPENRESTY, false),
        UPSTREAM_GC64("upstream-gc64", Flavor.UPSTREAM, true),
        UPSTREAM_NOGC64("upstream-nogc64", Flavor.UPSTREAM, false);

        final String dir;
        final Flavor flavor;
        final boolean gc64;

        Variant(String dir, Flavor flavor, boolean gc64) {
            this.dir = dir;
            this.flavor = flavor;
            this.gc64 = gc64;
        }

        Path lib() {
            return root().resolve("build").resolve(dir).resolve("src/libluajit.so");
        }

        Path exe() {
            return root().resolve("build").resolve(dir).resolve("src/luajit");
        }
    }

    static Path upstreamDebLib() {
        return root().resolve("upstream-deb/usr/lib/x86_64-linux-gnu/libluajit-5.1.so.2");
    }

    static Path upstreamDebExe() {
        return root().resolve("upstream-deb/usr/bin/luajit");
    }

    static synchronized Path root() {
        if (root == null) {
            Path dir = Path.of(System.getProperty("moonwalk.luajit.fixtures", "/var/cache/moonwalk-fixtures/luajit"));
            Path script = repoRoot().resolve("testdata/luajit/build-fixtures.sh");
            long t0 = System.nanoTime();
            Run.run(1800, "bash", script.toString(), dir.toString());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (ms > 2000) {
                System.out.println("LuaJIT fixtures built in " + ms + " ms under " + dir);
            }
            root = dir;
        }
        return root;
    }

    private static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("testdata/luajit/build-fixtures.sh"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new AssertionError("testdata/luajit/build-fixtures.sh not found above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
