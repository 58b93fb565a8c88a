package io.moonwalk.luajit.detect;

import io.moonwalk.luajit.layout.KnownLayouts;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.elf.ElfFile;
import io.moonwalk.elf.ElfFormatException;
import io.moonwalk.elf.ElfSymbol;
import io.moonwalk.elf.SymbolSource;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.TreeMap;

/**
 * Recognises LuaJIT in an ELF file by its content — never by its name — and extracts the offsets
 * the kernel walker needs from the binary's own code:
 *
 * <ol>
 *   <li>LuaJIT API functions ({@code luaJIT_*} and {@code lua_close}) are defined in .dynsym or .symtab;</li>
 *   <li>the interpreter is the one large FDE with the single rule CFA = rsp + 80 ({@link InterpreterLocator});</li>
 *   <li>GC mode, {@code L->glref} and {@code g->cur_L} come from {@code lua_close} ({@link LuaCloseAnalysis});</li>
 *   <li>G2DISP, {@code vmstate}, {@code jit_base} and {@code J->trace} come from DISPATCH-relative
 *       instructions in the interpreter ({@link InterpreterPatterns});</li>
 *   <li>the values must all agree with exactly one known layout ({@link KnownLayouts}); the fields no
 *       instruction pattern reveals ({@code J->sizetrace}, {@code J->mcarea} and the object layouts) are
 *       taken from it, and the evidence says so.</li>
 * </ol>
 * Anything ambiguous, missing or contradictory refuses the binary with a reason: a wrong offset in
 * the kernel walker would produce wrong stacks, a refusal only loses the Lua frames of that binary.
 */
public final class LuajitDetector {
    /** Offsets beyond this are not in global_State/jit_State of any 2.1 build (g→J.mcarea is below 0xf00). */
    private static final long MAX_G_OFFSET = 0x2000;
    private static final int LUA_CLOSE_BYTES = 256;

    private final List<LuajitLayout> known;

    /** A detector that cross-checks against {@link KnownLayouts#all()}. */
    public LuajitDetector() {
        this(KnownLayouts.all());
    }

    /** A detector that cross-checks against the given layouts (tests use this to see refusals). */
    public LuajitDetector(List<LuajitLayout> known) {
        this.known = List.copyOf(known);
    }

    /**
     * Examines one ELF file. Never throws for bad input: unreadable or hostile files come back as
     * {@link Detection.NotLuajit} (no LuaJIT symbols readable) or {@link Detection.Refused}.
     *
     * @param elf  the parsed file
     * @param path the file's path, for messages and for {@link LuajitBinary#path()}
     */
    public Detection detect(ElfFile elf, Path path) {
        Map<String, ElfSymbol> functions = new HashMap<>();
        try {
            for (SymbolSource source : SymbolSource.values()) {
                for (ElfSymbol s : elf.functionSymbols(source)) {
                    functions.putIfAbsent(s.name(), s);
                }
            }
        } catch (ElfFormatException e) {
            return new Detection.NotLuajit(path + ": symbol tables unreadable (" + e.getMessage() + ")");
        }
        String api = functions.keySet().stream().filter(n -> n.startsWith("luaJIT_")).sorted().findFirst()
                .orElse(null);
        if (api == null) {
            return new Detection.NotLuajit(path + ": defines no luaJIT_* function"
                    + (functions.containsKey("lua_close") ? " (a Lua API without LuaJIT)" : ""));
        }
        if (elf.machine() != ElfFile.EM_X86_64) {
            return new Detection.Refused(path + ": LuaJIT for ELF machine " + elf.machine()
                    + "; only x86_64 is supported");
        }
        try {
            return new Detection.Found(examine(elf, path, functions));
        } catch (Refusal r) {
            return new Detection.Refused(path + ": LuaJIT (defines " + api + ") but " + r.getMessage());
        } catch (RuntimeException | InternalError e) {
            // A file truncated while mapped, or a bug: either way this binary gets no Lua frames.
            return new Detection.Refused(path + ": LuaJIT (defines " + api + ") but examining it failed: " + e);
        }
    }

    private LuajitBinary examine(ElfFile elf, Path path, Map<String, ElfSymbol> functions) throws Refusal {
        List<Evidence> evidence = new ArrayList<>();
        InterpreterLocator.Range range = InterpreterLocator.locate(elf);
        checkAgainstSymbols(range, functions);
        ByteBuffer blob = CodeBytes.at(elf, range.start(), range.end(), "interpreter");
        if (blob.limit() != range.end() - range.start()) {
            throw new Refusal("the interpreter FDE [0x" + Long.toHexString(range.start()) + ", 0x"
                    + Long.toHexString(range.end()) + ") runs past its section");
        }

        ElfSymbol luaClose = functions.get("lua_close");
        if (luaClose == null) {
            throw new Refusal("lua_close is not defined, so glref/cur_L cannot be read from it");
        }
        ByteBuffer closeCode = CodeBytes.at(elf, luaClose.value(), luaClose.value() + LUA_CLOSE_BYTES, "lua_close");
        LuaCloseAnalysis.Result close = LuaCloseAnalysis.analyse(closeCode, luaClose.value());
        evidence.add(new Evidence("gc64", close.gc64() ? 1 : 0, "width of the L->glref load in lua_close at 0x"
                + Long.toHexString(close.glrefAt())));
        evidence.add(new Evidence("lGlref", close.glref(), "load through L in lua_close at 0x"
                + Long.toHexString(close.glrefAt())));
        evidence.add(new Evidence("gCurL", close.curL(), "zero store through g in lua_close at 0x"
                + Long.toHexString(close.curLAt())));

        InterpreterPatterns p = InterpreterPatterns.sweep(blob, range.start(), close.gc64());

        if (p.leaG.isEmpty()) {
            throw new Refusal("no lea -X(%r14),%rdi in the interpreter, so G2DISP is unknown");
        }
        Entry<Long, List<Long>> lea = p.leaG.lastEntry();
        long g2disp = lea.getKey();
        requireInRange("G2DISP", g2disp);
        evidence.add(new Evidence("g2disp", g2disp, "largest lea -X(%r14),%rdi, " + where(lea.getValue())));

        long vmstate = g2disp + single("vmstate", "movl $-N,D(%r14) (set_vmstate)", p.setVmstate, evidence, g2disp);
        long jitBase = g2disp + single("jit_base", "GCRef-sized mov $0,D(%r14) (exit handler)", p.zeroStores,
                evidence, g2disp);
        long trace = g2disp + single("J->trace", "mov D(%r14),A; mov (A,X,ref),T (BC_JLOOP)", p.traceArrayLoads,
                evidence, g2disp);
        long curLDisp = close.curL() - g2disp;
        List<Long> curLStores = p.registerStores.get(curLDisp);
        if (curLStores == null) {
            throw new Refusal("lua_close says cur_L is g+0x" + Long.toHexString(close.curL())
                    + " but the interpreter never stores to it (D=" + signedHex(curLDisp) + ")");
        }
        evidence.add(new Evidence("gCurL(confirmed)", close.curL(), "register stores to D(%r14) in the interpreter, "
                + where(curLStores)));

        List<LuajitLayout> matches = new ArrayList<>();
        for (LuajitLayout l : known) {
            if (l.gc64() == close.gc64() && l.g2disp() == g2disp && l.lGlref() == close.glref()
                    && l.gCurL() == close.curL() && l.gVmstate() == vmstate && l.gJitBase() == jitBase
                    && l.gJTrace() == trace) {
                matches.add(l);
            }
        }
        String extracted = (close.gc64() ? "GC64" : "non-GC64") + " g2disp=0x" + Long.toHexString(g2disp)
                + " glref=0x" + Long.toHexString(close.glref()) + " cur_L=0x" + Long.toHexString(close.curL())
                + " vmstate=0x" + Long.toHexString(vmstate) + " jit_base=0x" + Long.toHexString(jitBase)
                + " J->trace=g+0x" + Long.toHexString(trace);
        if (matches.size() != 1) {
            throw new Refusal((matches.isEmpty() ? "no known layout matches" : matches.size()
                    + " known layouts match") + " the extracted offsets (" + extracted + ")");
        }
        LuajitLayout layout = matches.getFirst();
        evidence.add(new Evidence("gJSizetrace", layout.gJSizetrace(), "from known layout " + layout.name()
                + " (no instruction pattern; every extracted offset matches it)"));
        evidence.add(new Evidence("gJMcarea", layout.gJMcarea(), "from known layout " + layout.name()
                + " (no instruction pattern; every extracted offset matches it)"));
        Flavor flavor = layout.name().startsWith("openresty") ? Flavor.OPENRESTY
                : layout.name().startsWith("upstream") ? Flavor.UPSTREAM : Flavor.UNKNOWN;
        return new LuajitBinary(path, range.start(), range.end(), close.gc64(), flavor, layout, evidence);
    }

    /** Where local symbols survive (unstripped builds) they must agree with the FDE. */
    private static void checkAgainstSymbols(InterpreterLocator.Range range, Map<String, ElfSymbol> functions)
            throws Refusal {
        ElfSymbol begin = functions.get("lj_vm_asm_begin");
        if (begin != null && begin.value() != range.start()) {
            throw new Refusal("lj_vm_asm_begin is 0x" + Long.toHexString(begin.value())
                    + " but the interpreter FDE starts at 0x" + Long.toHexString(range.start()));
        }
        ElfSymbol ffiCall = functions.get("lj_vm_ffi_call");
        if (ffiCall != null && (ffiCall.value() < range.end() || ffiCall.value() - range.end() > 16)) {
            throw new Refusal("lj_vm_ffi_call is 0x" + Long.toHexString(ffiCall.value())
                    + " but the interpreter FDE ends at 0x" + Long.toHexString(range.end()));
        }
    }

    /** The one displacement of a pattern; several different ones mean we do not understand the code. */
    private static long single(String field, String pattern, TreeMap<Long, List<Long>> hits, List<Evidence> evidence,
            long g2disp) throws Refusal {
        if (hits.isEmpty()) {
            throw new Refusal("no " + pattern + " in the interpreter, so " + field + " is unknown");
        }
        if (hits.size() > 1) {
            StringBuilder sb = new StringBuilder();
            for (Entry<Long, List<Long>> e : hits.entrySet()) {
                sb.append(sb.isEmpty() ? "" : ", ").append(signedHex(e.getKey())).append(" ×").append(e.getValue().size());
            }
            throw new Refusal(field + " is ambiguous: " + pattern + " uses " + hits.size() + " displacements (" + sb
                    + ")");
        }
        Entry<Long, List<Long>> e = hits.firstEntry();
        long value = g2disp + e.getKey();
        requireInRange(field, value);
        evidence.add(new Evidence(field, value, pattern + " with D=" + signedHex(e.getKey()) + ", " + where(e.getValue())));
        return e.getKey();
    }

    private static void requireInRange(String field, long value) throws Refusal {
        if (value <= 0 || value >= MAX_G_OFFSET) {
            throw new Refusal(field + " came out as " + signedHex(value) + ", outside any global_State");
        }
    }

    private static String where(List<Long> addresses) {
        return addresses.size() + "× first at 0x" + Long.toHexString(addresses.getFirst());
    }

    private static String signedHex(long v) {
        return v < 0 ? "-0x" + Long.toHexString(-v) : "0x" + Long.toHexString(v);
    }
}
