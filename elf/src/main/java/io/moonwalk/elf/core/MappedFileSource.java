package io.moonwalk.elf.core;

import java.nio.file.Path;
import java.util.Optional;

/** Where the files a core maps are found: the live filesystem, or a module store directory (by build id). */
@FunctionalInterface
public interface MappedFileSource {
    /** The readable file standing for {@code file}'s path, or empty when it cannot be found. */
    Optional<Path> resolve(MappedFile file);

    /** No files: only the bytes the core itself holds. */
    MappedFileSource NONE = f -> Optional.empty();
}
