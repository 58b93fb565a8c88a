package io.moonwalk.luajit.naming;

/** How the caller referred to the callee; {@link #luajitName()} is LuaJIT's own {@code namewhat}. */
public enum NameKind {
    GLOBAL("global"),
    LOCAL("local"),
    METHOD("method"),
    FIELD("field"),
    UPVALUE("upvalue"),
    METAMETHOD("metamethod");

    private final String luajitName;

    NameKind(String luajitName) {
        this.luajitName = luajitName;
    }

    /** The {@code namewhat} string {@code debug.getinfo(f, "n")} gives for this kind. */
    public String luajitName() {
        return luajitName;
    }
}
