package io.moonwalk.elf.core;

import io.moonwalk.elf.DebugFileLocator;
import io.moonwalk.elf.ElfFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Finds the files a core maps. With a module store directory, by build id: {@code DIR/<build id>} or
 * {@code DIR/<build id>.gz} (content-addressed, as the replay suite stores them); otherwise, or when the store has
 * no copy, at the mapped path on this machine, accepted only when its build id is the one the core recorded (a
 * different version of the file would give wrong unwind tables and names). The build id of each file comes from the
 * core's dump of the file's first page. What cannot be found is remembered with the reason ({@link #missing}).
 */
public final class ModuleLocator implements MappedFileSource, AutoCloseable {
    /** Largest decompressed module accepted from the store (a shared library with symbols is well below). */
    static final long MAX_MODULE_BYTES = 1L << 30;

    private final CoreFile core;
    private final Path store;
    private final boolean liveFiles;
    private final Map<String, Optional<Path>> resolved = new HashMap<>();
    private final Map<String, String> missing = new LinkedHashMap<>();
    private final Map<String, Optional<String>> buildIds = new HashMap<>();
    private CoreMemory coreOnly;
    private Path unpacked;

    /**
     * @param store     a module store directory, or null
     * @param liveFiles whether files may also be taken from their mapped path on this machine
     */
    public ModuleLocator(CoreFile core, Path store, boolean liveFiles) {
        this.core = core;
        this.store = store;
        this.liveFiles = liveFiles;
    }

    @Override
    public synchronized Optional<Path> resolve(MappedFile f) {
        return resolved.computeIfAbsent(f.path(), p -> find(f));
    }

    /** The build id the core recorded for {@code path} (from its first mapped page), if any. */
    public synchronized Optional<String> buildId(String path) {
        return buildIds.computeIfAbsent(path, p -> {
            for (MappedFile m : core.files()) {
                if (m.path().equals(p) && m.offset() == 0) {
                    if (coreOnly == null) {
                        coreOnly = core.memory(MappedFileSource.NONE);
                    }
                    return MappedBuildId.read(coreOnly, m.start());
                }
            }
            return Optional.empty();
        });
    }

    /**
     * Where the debug files of stripped mapped files are found: the store's {@code DIR/<build id>.debug[.gz]} (unpacked
     * into the {@code .build-id} layout), and {@code /usr/lib/debug} when live files are allowed. A replay from the
     * store alone so names what it names with the store alone.
     */
    public synchronized DebugFileLocator debugFiles() {
        java.util.List<Path> roots = new java.util.ArrayList<>();
        if (store != null) {
            Path root = null;
            for (MappedFile m : core.files()) {
                Optional<String> id = m.offset() == 0 ? buildId(m.path()) : Optional.empty();
                if (id.isEmpty() || id.get().length() < 3) {
                    continue;
                }
                Path plain = store.resolve(id.get() + ".debug");
                Path gz = store.resolve(id.get() + ".debug.gz");
                if (!Files.isRegularFile(plain) && !Files.isRegularFile(gz)) {
                    continue;
                }
                Path at = unpackedDir().resolve(".build-id").resolve(id.get().substring(0, 2))
                        .resolve(id.get().substring(2) + ".debug");
                if (!Files.exists(at)) {
                    try {
                        Files.createDirectories(at.getParent());
                        if (Files.isRegularFile(plain)) {
                            Files.copy(plain, at);
                        } else {
                            Files.move(unpack(gz, id.get() + ".debug"), at);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot unpack debug file " + gz + ": " + e.getMessage(), e);
                    }
                }
                root = unpackedDir();
            }
            if (root != null) {
                roots.add(root);
            }
        }
        if (liveFiles) {
            roots.add(Path.of("/usr/lib/debug"));
        }
        return new DebugFileLocator(roots);
    }

    private Path unpackedDir() {
        try {
            if (unpacked == null) {
                unpacked = Files.createTempDirectory("moonwalk-modules");
            }
            return unpacked;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for unpacked modules: " + e.getMessage(), e);
        }
    }

    /** Files that could not be found, each with why (in the order they were asked for). */
    public synchronized Map<String, String> missing() {
        return Map.copyOf(missing);
    }

    private Optional<Path> find(MappedFile f) {
        if (f.path().startsWith("/dev/")) {
            // a device, not a module: shared anonymous memory shows as "/dev/zero (deleted)" (nginx's shared zones);
            // the core holds its memory, and nothing can be found for it, so it is not missing
            return Optional.empty();
        }
        Optional<String> id = buildId(f.path());
        if (store != null && id.isPresent()) {
            Path plain = store.resolve(id.get());
            Path gz = store.resolve(id.get() + ".gz");
            if (Files.isRegularFile(plain)) {
                return Optional.of(plain);
            }
            if (Files.isRegularFile(gz)) {
                return Optional.of(unpack(gz, id.get()));
            }
        }
        if (liveFiles) {
            Path p = Path.of(f.path());
            if (Files.isRegularFile(p)) {
                if (id.isEmpty()) {
                    return Optional.of(p); // nothing recorded to compare with
                }
                String have = buildIdOf(p);
                if (id.get().equals(have)) {
                    return Optional.of(p);
                }
                missing.put(f.path(), "the file at that path has build id " + (have == null ? "(none)" : have)
                        + ", the core's has " + id.get());
                return Optional.empty();
            }
        }
        missing.put(f.path(), id.map(s -> "build id " + s + " is " + (store != null ? "not in " + store : "unknown")
                + (liveFiles ? " and the path does not exist here" : "")).orElse(
                "not found" + (store != null ? " in " + store : "") + (liveFiles ? " nor at its path" : "")));
        return Optional.empty();
    }

    private static String buildIdOf(Path p) {
        try (ElfFile elf = ElfFile.open(p)) {
            return elf.buildId().orElse(null);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private Path unpack(Path gz, String id) {
        try {
            Path out = unpackedDir().resolve(id);
            try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
                Files.copy(new BoundedInput(in, MAX_MODULE_BYTES, gz), out, StandardCopyOption.REPLACE_EXISTING);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack module " + gz + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (coreOnly != null) {
            coreOnly.close();
        }
        if (unpacked != null) {
            try (Stream<Path> s = Files.walk(unpacked)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** A stream that fails once more than {@code limit} bytes came out (a decompression bomb). */
    private static final class BoundedInput extends InputStream {
        private final InputStream in;
        private final long limit;
        private final Path what;
        private long count;

        BoundedInput(InputStream in, long limit, Path what) {
            this.in = in;
            this.limit = limit;
            this.what = what;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0 && ++count > limit) {
                throw new IOException(what + " unpacks to more than " + limit + " bytes");
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0 && (count += n) > limit) {
                throw new IOException(what + " unpacks to more than " + limit + " bytes");
            }
            return n;
        }
    }
}
