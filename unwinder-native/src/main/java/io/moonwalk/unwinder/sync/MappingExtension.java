package io.moonwalk.unwinder.sync;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.process.Mapping;
import io.moonwalk.unwinder.cfi.FileIdentity;

/**
 * A per-file addition to what {@link ProcessMapSync} installs for an executable file mapping: it looks at the
 * mapped ELF and may install per-file data of its own (e.g. a LuaJIT interpreter's range and offsets) and set
 * {@code mw_mapping.flags} bits that tell the kernel walker to look there. Called on the sync thread.
 */
public interface MappingExtension {
    /**
     * An executable mapping of {@code elf} is being installed for {@code pid}. Returns the flags for its
     * {@code pid_maps} value (0: nothing to add); a non-zero result is paired with one {@link #uninstall}.
     */
    int install(int pid, Mapping mapping, FileIdentity identity, ElfFile elf);

    /** The mapping that {@link #install} returned {@code flags} for is gone. */
    void uninstall(int pid, FileIdentity identity, int flags);

    /** Everything of {@code pid} was removed (exit, or a failed sync). */
    void processRemoved(int pid);

    /**
     * Whether anonymous executable mappings of {@code pid} are routed by someone else (LuaJIT mcode areas, per
     * area and VM): {@link ProcessMapSync} then installs none for it, so that JIT code of unknown origin is an
     * unknown PC (which triggers a re-sync) rather than a frame-pointer guess. Asked after the file mappings.
     */
    default boolean ownsAnonymous(int pid) {
        return false;
    }

    /**
     * The {@code (file_id, flags)} for {@code pid}'s marker entry, asked after the file mappings: lets the walker
     * reach per-process data without a mapping (LuaJIT: trace code of areas not routed yet). {@code {0, 0}}: none.
     */
    default long[] marker(int pid) {
        return new long[] {0, 0};
    }

    MappingExtension NONE = new MappingExtension() {
        @Override
        public int install(int pid, Mapping mapping, FileIdentity identity, ElfFile elf) {
            return 0;
        }

        @Override
        public void uninstall(int pid, FileIdentity identity, int flags) {
        }

        @Override
        public void processRemoved(int pid) {
        }
    };
}
