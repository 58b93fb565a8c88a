package io.moonwalk.luajit.naming;

import org.junit.jupiter.api.Tag;
import static org.assertj.core.api.Assertions.assertThat;

import io.moonwalk.luajit.fixtures.LuajitScript;
import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.proto.BytecodeSet;
import io.moonwalk.luajit.proto.ProtoInfo;
import io.moonwalk.luajit.proto.ProtoReader;
import io.moonwalk.process.ProcessMemory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Names computed from outside from the caller's bytecode must equal LuaJIT's own {@code debug.getinfo(f, "n")}
 * name/namewhat, reported by each callee of {@code testdata/lua/proto_naming.lua} while it runs.
 */
@Tag("tools")
class LuaFrameNamerLiveTest {
    private static LuajitScript lua;
    private static ProcessMemory mem;
    private static ProtoReader reader;
    private static LuaFrameNamer namer;

    @BeforeAll
    static void start() throws Exception {
        lua = LuajitScript.start();
        mem = new ProcessMemory();
        reader = new ProtoReader(mem, KnownLayouts.OPENRESTY_GC64, BytecodeSet.LUAJIT_2_1);
        namer = new LuaFrameNamer(reader, FastFunctionNames.forLayout(KnownLayouts.OPENRESTY_GC64),
                a -> a == 0x1234 ? "my_c_function" : null);
    }

    @AfterAll
    static void stop() throws Exception {
        if (mem != null) {
            mem.close();
        }
        if (lua != null) {
            lua.close();
        }
    }

    private static ProtoInfo proto(long fn) {
        long pt = reader.protoOfFunction(lua.pid, fn);
        assertThat(pt).as("proto of %x", fn).isNotZero();
        return (ProtoInfo) reader.lookup(lua.pid, pt, reader.currentFingerprint(lua.pid, pt));
    }

    @Test
    void namesEqualLuajitsOwnNameAndNamewhat() {
        BytecodeSet bc = BytecodeSet.LUAJIT_2_1;
        Map<String, String> displays = new HashMap<>();
        Set<String> kinds = new HashSet<>();
        int compared = 0;
        for (LuajitScript.Call c : lua.calls) {
            if (c.callerFunction() == 0) {
                // caller is a built-in (pcall, string.gsub): LuaJIT has no name either, and neither do we
                assertThat(c.name()).isEqualTo("nil");
                continue;
            }
            ProtoInfo caller = proto(c.callerFunction());
            boolean metamethod = c.namewhat().equals("metamethod");
            List<Integer> sites = new ArrayList<>();
            for (int pc = 1; pc < caller.sizebc(); pc++) {
                int mm = bc.mm(BytecodeSet.op(caller.instruction(pc)));
                boolean isCall = mm == BytecodeSet.MM_CALL;
                boolean isMeta = mm != BytecodeSet.MM_CALL && mm != bc.mmNone();
                if (caller.line(pc) == c.callerLine() && (metamethod ? isMeta : isCall)) {
                    sites.add(pc);
                }
            }
            assertThat(sites).as("one call site on line %d for %s", c.callerLine(), c.name()).hasSize(1);
            CallSiteName n = namer.callSiteName(lua.pid, caller, sites.getFirst());
            assertThat(n).as("name for %s", c.name()).isNotNull();
            assertThat(n.name()).isEqualTo(c.name());
            assertThat(n.kind().luajitName()).as("kind of %s", c.name()).isEqualTo(c.namewhat());
            displays.put(c.name(), n.display());
            kinds.add(c.namewhat());
            compared++;
        }
        System.out.println("call sites named like LuaJIT: " + compared + ", kinds " + kinds + ", displays "
                + displays);
        assertThat(kinds).contains("global", "local", "field", "method", "upvalue", "metamethod");
        assertThat(displays).containsEntry("field_fn", "M.field_fn").containsEntry("method_fn", "obj:method_fn")
                .containsEntry("leaf", "deep.a.b.leaf").containsEntry("__index", "__index")
                .containsEntry("f", "t.f");
    }

    @Test
    void labelsFollowTheDocumentedFormat() {
        LuajitScript.Func global = lua.funcs.get("global_fn");
        LuajitScript.Func main = lua.funcs.get("main");
        ProtoInfo callee = proto(global.address());
        ProtoInfo caller = proto(main.address());
        int site = -1;
        for (LuajitScript.Call c : lua.calls) {
            if (c.name().equals("global_fn")) {
                for (int pc = 1; pc < caller.sizebc(); pc++) {
                    if (caller.line(pc) == c.callerLine()
                            && BytecodeSet.LUAJIT_2_1.mm(BytecodeSet.op(caller.instruction(pc))) == BytecodeSet.MM_CALL) {
                        site = pc;
                    }
                }
            }
        }
        String file = main.shortSrc();
        assertThat(namer.luaFrameLabel(lua.pid, callee, 1, caller, site))
                .isEqualTo("global_fn (" + file + ":" + global.linedefined() + ")");
        assertThat(namer.luaFrameLabel(lua.pid, callee, 1, null, -1))
                .isEqualTo("function <" + file + ":" + global.linedefined() + "> (" + file + ":"
                        + global.linedefined() + ")");
        assertThat(namer.luaFrameLabel(lua.pid, caller, site, null, -1))
                .isEqualTo("main chunk (" + file + ":" + lua.calls.getFirst().callerLine() + ")");
        assertThat(namer.luaFrameLabel(lua.pid, callee, -1, null, -1)).endsWith("(" + file + ")");
        ProtoInfo gen32 = proto(lua.funcs.get("inner32").address());
        assertThat(namer.luaFrameLabel(lua.pid, gen32, 1, null, -1)).isEqualTo("function <gen32:70013> (gen32:70014)");
        assertThat(namer.cFunctionLabel(0x1234)).isEqualTo("my_c_function");
        assertThat(namer.cFunctionLabel(0x99)).isEqualTo("C function 0x99");
        assertThat(namer.fastFunctionLabel(20)).isEqualTo("pcall");
        assertThat(namer.fastFunctionLabel(250)).isEqualTo("builtin#250");
    }

    @Test
    void fastFunctionTableMatchesTheInstalledLuajit() throws Exception {
        String out = LuajitScript.runToEnd(LuajitScript.testdata("ffnames.lua"));
        FastFunctionNames ours = FastFunctionNames.openresty21();
        int checked = 0;
        for (String line : out.split("\n")) {
            String[] t = line.trim().split(" ");
            assertThat(ours.name(Integer.parseInt(t[0]))).as("ffid %s", t[0]).isEqualTo(t[1]);
            checked++;
        }
        assertThat(checked).isGreaterThan(150);
        // the live process agrees too: read the ffid out of real GCfuncC objects
        assertThat(reader.ffidOfFunction(lua.pid, lua.funcs.get("global_fn").address())).isZero();
    }
}
