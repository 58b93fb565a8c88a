package io.moonwalk.agent.profile;

import java.util.Objects;

/**
 * One symbolized frame.
 *
 * @param kind   the kind of code
 * @param name   the symbol (native/kernel), {@code name (chunk:line)} (Lua), or an error text
 * @param module the file the frame belongs to (executable, library, {@code [kernel.kallsyms]}),
 *               or the empty string
 */
public record Frame(FrameKind kind, String name, String module) {
    public Frame {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(module, "module");
    }

    /** The label used in folded stacks and flame graphs. */
    public String label() {
        return switch (kind) {
            case KERNEL -> name + "_[k]";
            case LUA_JIT -> name + "_[j]";
            default -> name;
        };
    }
}
