package io.moonwalk.luajit.detect;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Offsets and symbol addresses of a symbol build, as gdb and nm report them. */
record GroundTruth(long g2disp, long vmstate, long curL, long jitBase, long glref, long jTrace, long jSizetrace,
        long jMcarea, boolean gc64, long asmBegin, long ffiCall) {

    private static final String[][] EXPRESSIONS = {
        {"g2disp", "(long)&((GG_State*)0)->dispatch - (long)&((GG_State*)0)->g"},
        {"vmstate", "(long)&((global_State*)0)->vmstate"},
        {"curL", "(long)&((global_State*)0)->cur_L"},
        {"jitBase", "(long)&((global_State*)0)->jit_base"},
        {"glref", "(long)&((lua_State*)0)->glref"},
        {"jTrace", "(long)&((GG_State*)0)->J.trace - (long)&((GG_State*)0)->g"},
        {"jSizetrace", "(long)&((GG_State*)0)->J.sizetrace - (long)&((GG_State*)0)->g"},
        {"jMcarea", "(long)&((GG_State*)0)->J.mcarea - (long)&((GG_State*)0)->g"},
        {"gcref", "(long)sizeof(GCRef)"},
    };

    static GroundTruth of(Path binary) {
        String[] cmd = new String[4 + 2 * EXPRESSIONS.length];
        int i = 0;
        cmd[i++] = "gdb";
        cmd[i++] = "-batch";
        cmd[i++] = "-nx";
        cmd[i++] = binary.toString();
        for (String[] e : EXPRESSIONS) {
            cmd[i++] = "-ex";
            cmd[i++] = "printf \"" + e[0] + "=%ld\\n\", " + e[1];
        }
        Map<String, Long> v = new HashMap<>();
        for (String line : Run.run(60, cmd).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0 && line.substring(eq + 1).matches("-?\\d+")) {
                v.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
            }
        }
        for (String[] e : EXPRESSIONS) {
            if (!v.containsKey(e[0])) {
                throw new AssertionError("gdb gave no value for " + e[0] + " in " + binary);
            }
        }
        Map<String, Long> nm = new HashMap<>();
        for (String line : Run.run(60, "nm", binary.toString()).split("\n")) {
            String[] t = line.trim().split("\\s+");
            if (t.length == 3 && (t[2].equals("lj_vm_asm_begin") || t[2].equals("lj_vm_ffi_call"))) {
                nm.put(t[2], Long.parseLong(t[0], 16));
            }
        }
        if (nm.size() != 2) {
            throw new AssertionError("nm found " + nm + " in " + binary + "; expected lj_vm_asm_begin and lj_vm_ffi_call");
        }
        return new GroundTruth(v.get("g2disp"), v.get("vmstate"), v.get("curL"), v.get("jitBase"), v.get("glref"),
                v.get("jTrace"), v.get("jSizetrace"), v.get("jMcarea"), v.get("gcref") == 8,
                nm.get("lj_vm_asm_begin"), nm.get("lj_vm_ffi_call"));
    }
}
