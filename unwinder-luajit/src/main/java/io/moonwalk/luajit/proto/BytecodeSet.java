package io.moonwalk.luajit.proto;

import java.util.HashMap;
import java.util.Map;

/**
 * Opcode numbers and operand modes of one LuaJIT bytecode generation (lj_bc.h). Opcode numbers are
 * version-specific (upstream 2.1 inserted bit ops in 2026 and moved the function headers), so the reader and
 * the namer take the set as a parameter instead of using constants.
 *
 * <p>Mode word per op as LuaJIT stores it: A mode in bits 0-2, B in 3-6, C/D in 7-10, metamethod in 11-15.
 */
public final class BytecodeSet {
    /** A-operand modes that matter for slot-name search. */
    public static final int MODE_DST = 1;
    public static final int MODE_BASE = 2;

    /** Metamethod names in MMS order; index {@link #mmNone()} means "no metamethod". */
    private static final String[] MM_NAMES = {"__index", "__newindex", "__gc", "__mode", "__eq", "__len", "__lt",
            "__le", "__concat", "__call", "__add", "__sub", "__mul", "__div", "__mod", "__pow", "__unm",
            "__metatable", "__tostring", "__new", "__pairs", "__ipairs"};
    public static final int MM_CALL = 9;

    private static final String[] MODE_NAMES = {"___", "dst", "base", "var", "rbase", "uv", "lit", "lits", "pri",
            "num", "str", "tab", "func", "jump", "cdata"};

    /**
     * LuaJIT 2.1 as in the Debian upstream snapshot (2022-03) and OpenResty luajit2 (both identical): one row
     * per op "NAME a b cd mm".
     */
    private static final String LJ21 = """
            ISLT var ___ var lt|ISGE var ___ var lt|ISLE var ___ var le|ISGT var ___ var le|\
            ISEQV var ___ var eq|ISNEV var ___ var eq|ISEQS var ___ str eq|ISNES var ___ str eq|\
            ISEQN var ___ num eq|ISNEN var ___ num eq|ISEQP var ___ pri eq|ISNEP var ___ pri eq|\
            ISTC dst ___ var ___|ISFC dst ___ var ___|IST ___ ___ var ___|ISF ___ ___ var ___|\
            ISTYPE var ___ lit ___|ISNUM var ___ lit ___|\
            MOV dst ___ var ___|NOT dst ___ var ___|UNM dst ___ var unm|LEN dst ___ var len|\
            ADDVN dst var num add|SUBVN dst var num sub|MULVN dst var num mul|DIVVN dst var num div|\
            MODVN dst var num mod|ADDNV dst var num add|SUBNV dst var num sub|MULNV dst var num mul|\
            DIVNV dst var num div|MODNV dst var num mod|ADDVV dst var var add|SUBVV dst var var sub|\
            MULVV dst var var mul|DIVVV dst var var div|MODVV dst var var mod|POW dst var var pow|\
            CAT dst rbase rbase concat|\
            KSTR dst ___ str ___|KCDATA dst ___ cdata ___|KSHORT dst ___ lits ___|KNUM dst ___ num ___|\
            KPRI dst ___ pri ___|KNIL base ___ base ___|\
            UGET dst ___ uv ___|USETV uv ___ var ___|USETS uv ___ str ___|USETN uv ___ num ___|\
            USETP uv ___ pri ___|UCLO rbase ___ jump ___|FNEW dst ___ func gc|\
            TNEW dst ___ lit gc|TDUP dst ___ tab gc|GGET dst ___ str index|GSET var ___ str newindex|\
            TGETV dst var var index|TGETS dst var str index|TGETB dst var lit index|TGETR dst var var index|\
            TSETV var var var newindex|TSETS var var str newindex|TSETB var var lit newindex|\
            TSETM base ___ num newindex|TSETR var var var newindex|\
            CALLM base lit lit call|CALL base lit lit call|CALLMT base ___ lit call|CALLT base ___ lit call|\
            ITERC base lit lit call|ITERN base lit lit call|VARG base lit lit ___|ISNEXT base ___ jump ___|\
            RETM base ___ lit ___|RET rbase ___ lit ___|RET0 rbase ___ lit ___|RET1 rbase ___ lit ___|\
            FORI base ___ jump ___|JFORI base ___ jump ___|FORL base ___ jump ___|IFORL base ___ jump ___|\
            JFORL base ___ lit ___|ITERL base ___ jump ___|IITERL base ___ jump ___|JITERL base ___ lit ___|\
            LOOP rbase ___ jump ___|ILOOP rbase ___ jump ___|JLOOP rbase ___ lit ___|JMP rbase ___ jump ___|\
            FUNCF rbase ___ ___ ___|IFUNCF rbase ___ ___ ___|JFUNCF rbase ___ lit ___|\
            FUNCV rbase ___ ___ ___|IFUNCV rbase ___ ___ ___|JFUNCV rbase ___ lit ___|\
            FUNCC rbase ___ ___ ___|FUNCCW rbase ___ ___ ___""";

    /** LuaJIT 2.1 bytecode (upstream up to 2026-06 and every OpenResty luajit2 release so far). */
    public static final BytecodeSet LUAJIT_2_1 = new BytecodeSet("luajit-2.1", LJ21);

    private final String name;
    private final String[] opNames;
    private final int[] modes;
    private final Map<String, Integer> byName = new HashMap<>();
    public final int mov;
    public final int knil;
    public final int uget;
    public final int gget;
    public final int tgets;
    public final int iterc;
    public final int funcf;
    public final int jfuncv;

    private BytecodeSet(String name, String table) {
        this.name = name;
        String[] rows = table.split("\\|");
        opNames = new String[rows.length];
        modes = new int[rows.length];
        for (int op = 0; op < rows.length; op++) {
            String[] t = rows[op].trim().split(" ");
            opNames[op] = t[0];
            byName.put(t[0], op);
            int mm = t[4].equals("___") ? MM_NAMES.length : mmIndex("__" + t[4]);
            modes[op] = (mode(t[1]) | mode(t[2]) << 3 | mode(t[3]) << 7 | mm << 11);
        }
        mov = op("MOV");
        knil = op("KNIL");
        uget = op("UGET");
        gget = op("GGET");
        tgets = op("TGETS");
        iterc = op("ITERC");
        funcf = op("FUNCF");
        jfuncv = op("JFUNCV");
    }

    private static int mode(String m) {
        for (int i = 0; i < MODE_NAMES.length; i++) {
            if (MODE_NAMES[i].equals(m)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown bytecode operand mode " + m);
    }

    private static int mmIndex(String mm) {
        for (int i = 0; i < MM_NAMES.length; i++) {
            if (MM_NAMES[i].equals(mm)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown metamethod " + mm);
    }

    public String name() {
        return name;
    }

    /** Number of opcodes (BC__MAX). */
    public int size() {
        return opNames.length;
    }

    public int op(String opName) {
        Integer op = byName.get(opName);
        if (op == null) {
            throw new IllegalArgumentException(name + " has no opcode " + opName);
        }
        return op;
    }

    public String opName(int op) {
        return op >= 0 && op < opNames.length ? opNames[op] : null;
    }

    /** The full mode word (what {@code jit.util.funcbc} returns as its second value), or -1 for a bad op. */
    public int modeWord(int op) {
        return op >= 0 && op < modes.length ? modes[op] : -1;
    }

    public int aMode(int op) {
        return op >= 0 && op < modes.length ? modes[op] & 7 : 0;
    }

    /** Metamethod index of the op, {@link #mmNone()} if it has none (and for an unknown op). */
    public int mm(int op) {
        return op >= 0 && op < modes.length ? (modes[op] >>> 11) & 31 : mmNone();
    }

    public int mmNone() {
        return MM_NAMES.length;
    }

    public static String mmName(int mm) {
        return mm >= 0 && mm < MM_NAMES.length ? MM_NAMES[mm] : null;
    }

    /** Whether {@code op} is a Lua function header (FUNCF, IFUNCF, JFUNCF, FUNCV, IFUNCV, JFUNCV). */
    public boolean isLuaFunctionHeader(int op) {
        return op >= funcf && op <= jfuncv;
    }

    public static int op(int ins) {
        return ins & 0xff;
    }

    public static int a(int ins) {
        return (ins >>> 8) & 0xff;
    }

    public static int c(int ins) {
        return (ins >>> 16) & 0xff;
    }

    public static int b(int ins) {
        return ins >>> 24;
    }

    public static int d(int ins) {
        return ins >>> 16;
    }
}
