package io.moonwalk.luajit.detect;

import java.util.Optional;

/** The outcome of examining one ELF file for LuaJIT. */
public sealed interface Detection {

    /** The file is LuaJIT and every offset was found and confirmed. */
    record Found(LuajitBinary binary) implements Detection {
    }

    /** The file is not LuaJIT (the normal case for almost every file: no log line, no metric). */
    record NotLuajit(String reason) implements Detection {
    }

    /**
     * The file looks like LuaJIT but its interpreter or offsets could not be established with
     * certainty: Lua frames of processes using it are not walked. The agent logs the reason once
     * per file and counts it.
     */
    record Refused(String reason) implements Detection {
    }

    /** The binary when found. */
    default Optional<LuajitBinary> found() {
        return this instanceof Found f ? Optional.of(f.binary()) : Optional.empty();
    }

    /** Why there is no binary; empty when found. */
    default Optional<String> why() {
        return switch (this) {
            case Found f -> Optional.empty();
            case NotLuajit n -> Optional.of(n.reason());
            case Refused r -> Optional.of(r.reason());
        };
    }
}
