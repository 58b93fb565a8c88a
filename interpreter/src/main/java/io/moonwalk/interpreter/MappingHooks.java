package io.moonwalk.interpreter;

import io.moonwalk.elf.ElfFile;
import io.moonwalk.process.Mapping;
import io.moonwalk.unwinder.cfi.FileIdentity;
import io.moonwalk.unwinder.sync.MappingExtension;
import java.util.List;

/**
 * The map-sync hooks of every interpreter as one {@link MappingExtension}: a file belongs to the first interpreter
 * that claims it (its flags bits are that walker's), and per-process questions go to all of them.
 */
public final class MappingHooks implements MappingExtension {
    private final List<MappingExtension> hooks;

    private MappingHooks(List<MappingExtension> hooks) {
        this.hooks = List.copyOf(hooks);
    }

    /** The hooks of {@code interpreters}, in their order. */
    public static MappingExtension of(List<Interpreter> interpreters) {
        if (interpreters.isEmpty()) {
            return MappingExtension.NONE;
        }
        if (interpreters.size() == 1) {
            return interpreters.getFirst().mappings();
        }
        return new MappingHooks(interpreters.stream().map(Interpreter::mappings).toList());
    }

    @Override
    public int install(int pid, Mapping mapping, FileIdentity identity, ElfFile elf) {
        for (MappingExtension h : hooks) {
            int flags = h.install(pid, mapping, identity, elf);
            if (flags != 0) {
                return flags;
            }
        }
        return 0;
    }

    @Override
    public void uninstall(int pid, FileIdentity identity, int flags) {
        // each hook ignores identities it did not install
        for (MappingExtension h : hooks) {
            h.uninstall(pid, identity, flags);
        }
    }

    @Override
    public void processRemoved(int pid) {
        for (MappingExtension h : hooks) {
            h.processRemoved(pid);
        }
    }

    @Override
    public boolean ownsAnonymous(int pid) {
        for (MappingExtension h : hooks) {
            if (h.ownsAnonymous(pid)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public long[] marker(int pid) {
        for (MappingExtension h : hooks) {
            long[] m = h.marker(pid);
            if (m[0] != 0 || m[1] != 0) {
                return m;
            }
        }
        return new long[] {0, 0};
    }
}
