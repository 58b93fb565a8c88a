package io.moonwalk.luajit.detect;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds a small shared object with gcc that looks like LuaJIT from the outside: a {@code lua_close}
 * reading {@code L->glref} (+0x10) and clearing {@code g->cur_L} (+0x170), optionally a
 * {@code luaJIT_setmode}, and a 16 KiB function whose only CFI row is CFA=rsp+80 holding the given
 * assembly — but no real interpreter.
 */
final class Synthetic {
    private Synthetic() {
    }

    static Path build(Path dir, String name, String asm, boolean withLuajitApi) throws Exception {
        String c = """
                struct global_State { char pad[0x170]; void *cur_L; };
                struct lua_State { char pad[0x10]; struct global_State *glref; };
                __attribute__((noinline)) void lua_close(struct lua_State *L) {
                    struct global_State *g = L->glref;
                    __asm__ volatile("" : : "r"(g));
                    g->cur_L = 0;
                }
                %s
                __asm__(".text\\n.globl fake_vm\\n.type fake_vm,@function\\nfake_vm:\\n.cfi_startproc\\n"
                        ".cfi_def_cfa_offset 80\\n"
                        "%s\\n"
                        "ret\\n.cfi_endproc\\n.size fake_vm, .-fake_vm\\n");
                """.formatted(withLuajitApi ? "int luaJIT_setmode(void *L, int idx, int mode) { return idx + mode; }" : "",
                asm.replace("\n", "\\n"));
        Path src = dir.resolve(name + ".c");
        Path so = dir.resolve(name + ".so");
        Files.writeString(src, c);
        Run.run(60, "gcc", "-O2", "-shared", "-fPIC", "-o", so.toString(), src.toString());
        return so;
    }
}
