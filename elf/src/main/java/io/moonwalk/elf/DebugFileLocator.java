package io.moonwalk.elf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * Finds the separate debug file of an ELF file the way gdb does: by build-id under
 * {@code <root>/.build-id/xx/rest.debug}, then by {@code .gnu_debuglink} in the file's directory, its
 * {@code .debug/} subdirectory and {@code <root>/<dir>/}. A candidate is accepted only if it proves it belongs
 * to the file: the same build-id, or (debuglink) the CRC32 the link records. A wrong debug file would give
 * wrong unwind rules, which is worse than none.
 */
public final class DebugFileLocator {
    /** How the debug file was found. */
    public enum Method { BUILD_ID, DEBUGLINK }

    /**
     * @param path the accepted debug file, if any
     * @param method how it was found (null when not found)
     * @param rejected candidates that existed but did not match, with the reason (for a log line)
     */
    public record Result(Optional<Path> path, Method method, List<String> rejected) {
    }

    private static final Path SYSTEM_ROOT = Path.of("/usr/lib/debug");
    private static final int CRC_CHUNK = 1 << 24;

    private final List<Path> roots;

    /** @param roots debug roots, e.g. {@code /usr/lib/debug}; empty disables the search */
    public DebugFileLocator(List<Path> roots) {
        this.roots = List.copyOf(roots);
    }

    /** The distribution layout: {@code /usr/lib/debug}. */
    public static DebugFileLocator system() {
        return new DebugFileLocator(List.of(SYSTEM_ROOT));
    }

    /** A locator that never finds anything (e.g. for in-memory images such as the vDSO). */
    public static DebugFileLocator none() {
        return new DebugFileLocator(List.of());
    }

    /**
     * @param elf the file whose debug file is wanted
     * @param elfPath where {@code elf} lives (the debuglink directories are relative to it); null skips the
     *     debuglink search
     */
    public Result locate(ElfFile elf, Path elfPath) throws ElfFormatException {
        List<String> rejected = new ArrayList<>();
        Optional<String> buildId = elf.buildId();
        if (buildId.isPresent() && buildId.get().length() > 2) {
            String id = buildId.get();
            for (Path root : roots) {
                Path candidate = root.resolve(".build-id").resolve(id.substring(0, 2)).resolve(id.substring(2)
                        + ".debug");
                if (!Files.isRegularFile(candidate)) {
                    continue;
                }
                try (ElfFile debug = ElfFile.open(candidate)) {
                    Optional<String> theirs = debug.buildId();
                    if (theirs.equals(buildId)) {
                        return new Result(Optional.of(candidate), Method.BUILD_ID, rejected);
                    }
                    rejected.add(candidate + ": build-id " + theirs.orElse("(none)") + ", expected " + id);
                } catch (IOException e) {
                    rejected.add(candidate + ": " + e.getMessage());
                }
            }
        }
        Optional<DebugLink> link = elf.debugLink();
        if (link.isEmpty() || elfPath == null) {
            return new Result(Optional.empty(), null, rejected);
        }
        String name = link.get().fileName();
        if (name.contains("/") || name.equals(".") || name.equals("..")) {
            rejected.add(".gnu_debuglink name \"" + name + "\" is not a plain file name; ignored");
            return new Result(Optional.empty(), null, rejected);
        }
        Path dir = elfPath.toAbsolutePath().getParent();
        if (dir == null) {
            return new Result(Optional.empty(), null, rejected);
        }
        List<Path> candidates = new ArrayList<>();
        candidates.add(dir.resolve(name));
        candidates.add(dir.resolve(".debug").resolve(name));
        for (Path root : roots) {
            candidates.add(root.resolve(dir.getRoot().relativize(dir)).resolve(name));
        }
        for (Path candidate : candidates) {
            if (!Files.isRegularFile(candidate)) {
                continue;
            }
            try {
                if (Files.isSameFile(candidate, elfPath)) {
                    continue; // the link names the stripped file itself
                }
                int crc = crc32(candidate);
                if (crc == link.get().crc32()) {
                    return new Result(Optional.of(candidate), Method.DEBUGLINK, rejected);
                }
                rejected.add(candidate + ": CRC32 0x" + Integer.toHexString(crc) + ", .gnu_debuglink expects 0x"
                        + Integer.toHexString(link.get().crc32()));
            } catch (IOException e) {
                rejected.add(candidate + ": " + e.getMessage());
            }
        }
        return new Result(Optional.empty(), null, rejected);
    }

    /** The CRC32 (zlib polynomial, as gdb and objcopy compute it) of a whole file. */
    public static int crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            for (long off = 0; off < size; off += CRC_CHUNK) {
                ByteBuffer chunk = ch.map(FileChannel.MapMode.READ_ONLY, off, Math.min(CRC_CHUNK, size - off));
                crc.update(chunk);
            }
        } catch (InternalError e) {
            throw new IOException(file + " changed while its CRC was computed: " + e.getMessage());
        }
        return (int) crc.getValue();
    }
}
