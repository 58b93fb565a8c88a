package io.moonwalk.luajit.proto;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.luajit.naming.FastFunctionNames;
import io.moonwalk.luajit.naming.LuaFrameNamer;
import java.util.List;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of GCproto reading and bytecode naming over a fake target memory: a valid
 * proto (with constants, upvalues, locals and a line table, for each known layout) is installed, the
 * fuzzer's bytes patch it anywhere (header, bytecode, constants, debug info, the chunk-name string),
 * and the reader plus the call-site namer must answer with a proto or a failure reason — never an
 * exception — and never read or allocate beyond the caps.
 */
@Tag("pure")
class ProtoFuzzTest {
    private static final List<LuajitLayout> LAYOUTS = List.of(KnownLayouts.OPENRESTY_GC64, KnownLayouts.UPSTREAM_GC64,
            KnownLayouts.OPENRESTY_32, KnownLayouts.UPSTREAM_32);
    private static final BytecodeSet BC = BytecodeSet.LUAJIT_2_1;

    @FuzzTest(maxDuration = "30s")
    void patchedProto(FuzzedDataProvider data) {
        LuajitLayout l = LAYOUTS.get(data.consumeInt(0, LAYOUTS.size() - 1));
        ImageMemory mem = new ImageMemory();
        ProtoImage img = new ProtoImage(l, BC);
        int fr2 = l.gc64() ? 1 : 0;
        img.bytecode = new int[] {
                BC.funcf | 4 << 8,
                BC.gget | 0 << 8 | 0 << 16,
                BC.mov | (1 + 1 + fr2) << 8 | 0 << 16,
                BC.tgets | 1 << 8 | 1 << 16 | 0 << 24,
                BC.op("CALL") | 1 << 8 | 1 << 16 | (2 + fr2) << 24,
                BC.uget | 3 << 8 | 1 << 16,
                BC.op("CALL") | 3 << 8 | 1 << 16 | 1 << 24,
                BC.op("RET0") | 1 << 16};
        img.lineDeltas = new int[] {1, 1, 1, 1, 2, 2, 3};
        img.kgcStrings = List.of("obj", "m");
        img.uvNames = List.of("first_up", "helper");
        img.vars = List.of(new Object[] {"self", 5, 8}, new Object[] {"x", 6, 8});
        byte[] proto = img.install(mem);
        byte[] chunk = img.gcstr(img.chunkname);
        int patches = data.consumeInt(0, 16);
        for (int i = 0; i < patches && data.remainingBytes() > 0; i++) {
            boolean inChunk = data.consumeBoolean();
            byte[] target = inChunk ? chunk : proto;
            target[data.consumeInt(0, target.length - 1)] = data.consumeByte();
        }
        mem.put(0x20_0000, chunk); // the chunk name's GCstr (stringAddress(0) of ProtoImage)
        ProtoReader reader = new ProtoReader(mem, l, BC, 4);
        ProtoResult r = reader.read(1, img.pt);
        if (r instanceof ProtoInfo p) {
            LuaFrameNamer namer = new LuaFrameNamer(reader, FastFunctionNames.forLayout(l), a -> null);
            for (int pc = 0; pc < p.sizebc(); pc++) {
                p.line(pc);
                namer.callSiteName(1, p, pc);
                for (int slot = 0; slot < 8; slot++) {
                    p.localName(pc, slot);
                }
            }
            for (int u = 0; u < p.upvalueCount(); u++) {
                p.upvalueName(u);
            }
            for (int d = 0; d < p.kgcCount(); d++) {
                reader.kgcString(1, p, d);
            }
            namer.luaFrameLabel(1, p, data.consumeInt(-1, p.sizebc() + 1), p, data.consumeInt(-1, p.sizebc() + 1));
        }
    }
}
