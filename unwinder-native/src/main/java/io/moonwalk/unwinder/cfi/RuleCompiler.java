package io.moonwalk.unwinder.cfi;

import java.util.Arrays;

/** Maps one evaluated CFI row to the rule the x86_64 kernel walker can execute. */
final class RuleCompiler {
    static final int RSP = 7;
    static final int RBP = 6;
    /** The return address sits just below the CFA on x86_64 (pushed by call). */
    private static final long RA_AT_CFA = -8;

    /**
     * The CFA expression binutils' ld emits for lazy .plt entries (and glibc's / LuaJIT's own PLT-like stubs):
     * {@code DW_OP_breg7 (rsp) 8; DW_OP_breg16 (rip) 0; DW_OP_lit15; DW_OP_and; DW_OP_lit<N>; DW_OP_ge;
     * DW_OP_lit3; DW_OP_shl; DW_OP_plus}. N is 11 for classic 16-byte entries and 10 for the IBT/BND variants; it
     * is kept in the rule rather than assumed.
     */
    private static final byte[] PLT_PREFIX = {0x77, 0x08, (byte) 0x80, 0x00, 0x3f, 0x1a};
    private static final byte[] PLT_SUFFIX = {0x2a, 0x33, 0x24, 0x22};
    private static final int DW_OP_LIT0 = 0x30;

    private RuleCompiler() {
    }

    static UnwindRule compile(CfaRow row, boolean signalFrame) {
        if (signalFrame) {
            return UnwindRule.SIGNAL;
        }
        if (row.returnAddress().kind() == RegisterRule.Kind.UNDEFINED) {
            return UnwindRule.END;
        }
        if (row.returnAddress().kind() != RegisterRule.Kind.OFFSET || row.returnAddress().value() != RA_AT_CFA) {
            return UnwindRule.UNSUPPORTED;
        }
        if (row.cfaIsExpression()) {
            int threshold = pltThreshold(row.cfaExpression());
            boolean rbpUntouched = row.rbp().kind() == RegisterRule.Kind.UNREFERENCED
                    || row.rbp().kind() == RegisterRule.Kind.SAME_VALUE;
            return threshold >= 0 && rbpUntouched ? UnwindRule.plt(8, threshold) : UnwindRule.UNSUPPORTED;
        }
        UnwindRule.Kind kind;
        if (row.cfaRegister() == RSP) {
            kind = UnwindRule.Kind.CFA_RSP;
        } else if (row.cfaRegister() == RBP) {
            kind = UnwindRule.Kind.CFA_RBP;
        } else {
            return UnwindRule.UNSUPPORTED;
        }
        if (row.cfaOffset() != (int) row.cfaOffset()) {
            return UnwindRule.UNSUPPORTED;
        }
        RegisterRule rbp = row.rbp();
        return switch (rbp.kind()) {
            case UNREFERENCED, SAME_VALUE ->
                new UnwindRule(kind, (int) row.cfaOffset(), UnwindRule.RbpKind.UNCHANGED, (short) 0);
            case OFFSET -> rbp.value() == (short) rbp.value()
                    ? new UnwindRule(kind, (int) row.cfaOffset(), UnwindRule.RbpKind.SAVED_AT_CFA, (short) rbp.value())
                    : new UnwindRule(kind, (int) row.cfaOffset(), UnwindRule.RbpKind.LOST, (short) 0);
            default -> new UnwindRule(kind, (int) row.cfaOffset(), UnwindRule.RbpKind.LOST, (short) 0);
        };
    }

    /** The N of a PLT-shaped CFA expression, or -1 if the expression has another shape. */
    static int pltThreshold(byte[] expr) {
        int n = PLT_PREFIX.length + 1 + PLT_SUFFIX.length;
        if (expr.length != n
                || !Arrays.equals(expr, 0, PLT_PREFIX.length, PLT_PREFIX, 0, PLT_PREFIX.length)
                || !Arrays.equals(expr, PLT_PREFIX.length + 1, n, PLT_SUFFIX, 0, PLT_SUFFIX.length)) {
            return -1;
        }
        int lit = (expr[PLT_PREFIX.length] & 0xff) - DW_OP_LIT0;
        return lit >= 0 && lit <= 15 ? lit : -1;
    }
}
