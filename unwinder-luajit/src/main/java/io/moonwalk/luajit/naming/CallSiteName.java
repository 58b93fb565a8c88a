package io.moonwalk.luajit.naming;

/**
 * The callee's name as the caller's bytecode gives it. {@code name} and {@code kind} equal LuaJIT's own
 * {@code debug.getinfo(f, "n")} {@code name}/{@code namewhat}; {@code qualifier} is the name of the table a
 * field or method was taken from when that resolves too (null otherwise), for {@code M.f} / {@code obj:m}.
 */
public record CallSiteName(String name, NameKind kind, String qualifier) {
    /** {@code M.f}, {@code obj:m}, or the plain name. */
    public String display() {
        if (qualifier != null && kind == NameKind.FIELD) {
            return qualifier + "." + name;
        }
        if (qualifier != null && kind == NameKind.METHOD) {
            return qualifier + ":" + name;
        }
        return name;
    }
}
