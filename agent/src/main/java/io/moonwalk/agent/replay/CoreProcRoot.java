package io.moonwalk.agent.replay;

import io.moonwalk.elf.core.CoreFile;
import io.moonwalk.elf.core.MappedFile;
import io.moonwalk.elf.core.MappedFileSource;
import io.moonwalk.process.Mapping;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A stand-in for {@code /proc} holding the core's one process, so that the agent's own readers of /proc (the map
 * sync, the native symbolizer, the process registry) run unchanged on a core: {@code PID/maps} as the core's
 * mappings (with the inode of the file each resolves to, so the symbolizer's identity check holds),
 * {@code PID/map_files/START-END} links to those files, {@code PID/comm} and {@code PID/exe}. Deleted on close.
 */
final class CoreProcRoot implements AutoCloseable {
    private final Path root;
    private final List<Mapping> mappings;

    private CoreProcRoot(Path root, List<Mapping> mappings) {
        this.root = root;
        this.mappings = mappings;
    }

    static CoreProcRoot write(CoreFile core, MappedFileSource files) throws IOException {
        Path root = Files.createTempDirectory("moonwalk-core-proc");
        Path dir = root.resolve(Integer.toString(core.pid()));
        Path mapFiles = dir.resolve("map_files");
        Files.createDirectories(mapFiles);
        StringBuilder maps = new StringBuilder();
        List<Mapping> out = new ArrayList<>();
        Path exe = null;
        for (Mapping m : core.mappings(files)) {
            long inode = 0;
            String path = m.path();
            if (m.inode() != 0) {
                Optional<Path> f = files.resolve(new MappedFile(m.start(), m.end(), m.offset(), m.path()));
                if (f.isPresent()) {
                    Files.createSymbolicLink(mapFiles.resolve(m.mapFilesName()), f.get().toAbsolutePath());
                    inode = (Long) Files.getAttribute(f.get(), "unix:ino");
                    if (exe == null) {
                        exe = f.get(); // the first file mapping is the executable's (the kernel maps it first)
                    }
                }
            }
            Mapping written = new Mapping(m.start(), m.end(), m.perms(), m.offset(), 0, 0, inode, path);
            out.add(written);
            maps.append(String.format("%x-%x %s %08x 00:00 %d", m.start(), m.end(), m.perms(), m.offset(), inode));
            if (!path.isEmpty()) {
                maps.append(" ".repeat(8)).append(path);
            }
            maps.append('\n');
        }
        Files.writeString(dir.resolve("maps"), maps, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("comm"), core.command() + "\n", StandardCharsets.UTF_8);
        if (exe != null) {
            Files.createSymbolicLink(dir.resolve("exe"), exe.toAbsolutePath());
        }
        return new CoreProcRoot(root, List.copyOf(out));
    }

    Path root() {
        return root;
    }

    /** The mappings as written to {@code PID/maps} (inode 0: the file was not found). */
    List<Mapping> mappings() {
        return mappings;
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
