package io.moonwalk.luajit.layout;

import java.util.List;

/**
 * Layouts measured with {@code offsetof} on the Debian source packages: upstream LuaJIT 2.1 ("UP") and OpenResty luajit2 ("OR"), GC64 and non-GC64 x86_64. Used to
 * cross-check what is extracted from a binary.
 */
public final class KnownLayouts {
    private KnownLayouts() {
    }

    public static final LuajitLayout UPSTREAM_GC64 = gc64("upstream-2.1-gc64", 0xf80, 0x458, 0x464, 0xec0);
    public static final LuajitLayout OPENRESTY_GC64 = gc64("openresty-2.1-gc64", 0xfa8, 0x460, 0x46c, 0xec8);
    public static final LuajitLayout UPSTREAM_32 = nonGc64("upstream-2.1-nogc64", 0xc68, 0x350, 0x35c, 0xba8);
    public static final LuajitLayout OPENRESTY_32 = nonGc64("openresty-2.1-nogc64", 0xc90, 0x358, 0x364, 0xbb0);

    public static List<LuajitLayout> all() {
        return List.of(UPSTREAM_GC64, OPENRESTY_GC64, UPSTREAM_32, OPENRESTY_32);
    }

    private static LuajitLayout gc64(String name, int g2disp, int jTrace, int jSizetrace, int jMcarea) {
        return new LuajitLayout(name, true, g2disp,
                0x10, 0x20, 0x28, 0x38, 0x50,
                0xb8, 0x170, 0x178, 0xc0,
                jTrace, jSizetrace, jMcarea,
                0x40, 0x48, 0x54, 0x58, 0x66, 0x68, 0x6a, 0x6c,
                0x68, 0xa, 0xb, 0xc, 0x20, 0x28, 0x30, 0x34,
                0x38, 0x3c, 0x3d, 0x3e, 0x40, 0x48, 0x4c,
                0x50, 0x58, 0x60,
                0xa, 0xb, 0x20, 0x28,
                0x18, 0x14,
                0x9,
                8);
    }

    private static LuajitLayout nonGc64(String name, int g2disp, int jTrace, int jSizetrace, int jMcarea) {
        return new LuajitLayout(name, false, g2disp,
                0x8, 0x10, 0x18, 0x24, 0x30,
                0x88, 0x120, 0x124, 0x8c,
                jTrace, jSizetrace, jMcarea,
                0x30, 0x34, 0x3c, 0x40, 0x4e, 0x50, 0x52, 0x54,
                0x40, 0x6, 0x7, 0x8, 0x10, 0x14, 0x18, 0x1c,
                0x20, 0x24, 0x25, 0x26, 0x28, 0x2c, 0x30,
                0x34, 0x38, 0x3c,
                0x6, 0x7, 0x10, 0x18,
                0x14, 0x10,
                0x5,
                4);
    }
}
