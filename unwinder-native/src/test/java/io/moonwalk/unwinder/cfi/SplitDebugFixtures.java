package io.moonwalk.unwinder.cfi;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * gcc-built binaries whose CFI is spread over .eh_frame, .debug_frame and separate debug files, made with the
 * real objcopy/strip the way distributions split debug info.
 */
final class SplitDebugFixtures {
    private static SplitDebugFixtures instance;

    final Path dir;
    /** .eh_frame (crt) + in-file .debug_frame (all of the fixture's own functions), with a build-id. */
    final Path full;
    /** {@link #full} after {@code objcopy --only-keep-debug}, uncompressed. */
    final Path fullDebug;
    /** {@link #full} with debug sections stripped and a .gnu_debuglink to {@code full.debug}. */
    final Path stripped;
    /** Like {@link #full} but built with zlib-compressed debug sections (-gz=zlib), then split. */
    final Path zfull;
    final Path zstripped;
    final Path zDebug;
    /** First unit in .eh_frame, second unit in .debug_frame, not overlapping. */
    final Path mixed;
    /** Every function in both .eh_frame and .debug_frame ({@code .cfi_sections .eh_frame, .debug_frame}). */
    final Path both;
    /** No CFI at all: no async tables, no -g, and crt's .eh_frame removed. */
    final Path noCfi;

    private SplitDebugFixtures(Path dir) {
        this.dir = dir;
        this.full = dir.resolve("full");
        this.fullDebug = dir.resolve("debugs/full.debug");
        this.stripped = dir.resolve("stripped");
        this.zfull = dir.resolve("zfull");
        this.zstripped = dir.resolve("zstripped");
        this.zDebug = dir.resolve("debugs/zfull.debug");
        this.mixed = dir.resolve("mixed");
        this.both = dir.resolve("both");
        this.noCfi = dir.resolve("nocfi");
    }

    static synchronized SplitDebugFixtures get() {
        if (instance == null) {
            instance = build();
        }
        return instance;
    }

    private static SplitDebugFixtures build() {
        try {
            Path dir = Files.createTempDirectory("moonwalk-split-debug");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            Files.createDirectories(dir.resolve("debugs"));
            for (String name : List.of("cfi_fixture.c", "cfi_second.c")) {
                try (InputStream in = SplitDebugFixtures.class.getResourceAsStream("/unwind/" + name)) {
                    Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            SplitDebugFixtures f = new SplitDebugFixtures(dir);
            String src = dir.resolve("cfi_fixture.c").toString();
            run("gcc", "-O1", "-g", "-fno-asynchronous-unwind-tables", "-Wl,--build-id", src, "-o", f.full.toString());
            split(f.full, f.fullDebug, f.stripped);
            run("gcc", "-O1", "-g", "-gz=zlib", "-fno-asynchronous-unwind-tables", "-Wl,--build-id", src, "-o",
                    f.zfull.toString());
            split(f.zfull, f.zDebug, f.zstripped);

            Path first = dir.resolve("first.o");
            Path second = dir.resolve("second.o");
            run("gcc", "-O2", "-c", src, "-o", first.toString());
            run("gcc", "-O1", "-g", "-fno-asynchronous-unwind-tables", "-c", dir.resolve("cfi_second.c").toString(),
                    "-o", second.toString());
            run("gcc", first.toString(), second.toString(), "-o", f.mixed.toString());

            Path asm = dir.resolve("both.s");
            run("gcc", "-O2", "-S", src, "-o", asm.toString());
            Files.writeString(asm, "\t.cfi_sections .eh_frame, .debug_frame\n" + Files.readString(asm));
            run("gcc", asm.toString(), "-o", f.both.toString());

            Path plain = dir.resolve("plain");
            run("gcc", "-O1", "-fno-asynchronous-unwind-tables", src, "-o", plain.toString());
            run("objcopy", "--remove-section=.eh_frame", "--remove-section=.eh_frame_hdr", plain.toString(),
                    f.noCfi.toString());
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** objcopy --only-keep-debug, then strip the debug sections and link the stripped file to the debug file. */
    private static void split(Path unstripped, Path debug, Path stripped) {
        run("objcopy", "--only-keep-debug", unstripped.toString(), debug.toString());
        run("objcopy", "--strip-debug", "--add-gnu-debuglink=" + debug, unstripped.toString(), stripped.toString());
    }

    static String run(String... cmd) {
        return ExternalTool.run(cmd);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at JVM exit
        }
    }
}
