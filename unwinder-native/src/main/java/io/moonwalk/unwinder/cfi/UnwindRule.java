package io.moonwalk.unwinder.cfi;

import io.moonwalk.bpf.layout.RecordLayout;
import java.lang.foreign.MemorySegment;

/**
 * What the in-kernel x86_64 walker does at a PC. Written for the kernel as
 * {@code struct mw_unwind_rule} (bpf/src/unwind.h, {@link RecordLayout#UNWIND_RULE}; see {@link #writeTo}).
 *
 * <ul>
 *   <li>{@link Kind#CFA_RSP} / {@link Kind#CFA_RBP}: CFA = rsp/rbp + {@code cfaOffset}; return address at CFA-8;
 *       caller's rsp = CFA; caller's rbp per {@code rbpKind}.</li>
 *   <li>{@link Kind#PLT}: lazy-binding PLT stub: CFA = rsp + {@code cfaOffset} + ((rip &amp; 15) &gt;=
 *       {@link #pltThreshold()} ? 8 : 0); rbp unchanged.</li>
 *   <li>{@link Kind#SIGNAL}: signal trampoline; the caller's registers are in the ucontext on the stack.</li>
 *   <li>{@link Kind#END}: return address undefined: outermost frame, the walk ends successfully.</li>
 *   <li>{@link Kind#CFA_RSP_BLOB}: like {@link Kind#CFA_RSP}, for hand-written code whose one FDE claims a single
 *       CFA for all of it (LuaJIT's interpreter: rsp+80, the cframe). Such a blob also holds leaf subroutines that
 *       the blob itself calls (LuaJIT's vm_mod, vm_floor, ...); inside one the CFA is rsp+8. The walker tells them
 *       apart from the word at rsp: a return address just after a {@code call rel32} whose target lies in the same
 *       blob at or before the PC means "leaf subroutine" (CFA = rsp+8, rbp unchanged); anything else means the
 *       blob's own rule.</li>
 *   <li>{@link Kind#INVALID}: no CFI covers this PC. {@link Kind#UNSUPPORTED}: CFI exists but cannot be expressed
 *       (e.g. CFA from another register or an unknown expression): the walk stops with an error, never guesses.</li>
 * </ul>
 */
public record UnwindRule(Kind kind, int cfaOffset, RbpKind rbpKind, short rbpOffset) {

    /** What the walker does; {@link #code} is enum mw_rule_kind. */
    public enum Kind {
        INVALID(RecordLayout.RULE_INVALID),
        CFA_RSP(RecordLayout.RULE_CFA_RSP),
        CFA_RBP(RecordLayout.RULE_CFA_RBP),
        PLT(RecordLayout.RULE_PLT),
        SIGNAL(RecordLayout.RULE_SIGNAL),
        END(RecordLayout.RULE_END),
        UNSUPPORTED(RecordLayout.RULE_UNSUPPORTED),
        CFA_RSP_BLOB(RecordLayout.RULE_CFA_RSP_BLOB);

        public final int code;

        Kind(int code) {
            this.code = code;
        }
    }

    /** How to recover the caller's rbp; {@link #code} is enum mw_rbp_kind. */
    public enum RbpKind {
        /** rbp was not touched (or explicitly same-value): the caller's rbp is the current rbp. */
        UNCHANGED(RecordLayout.RBP_UNCHANGED),
        /** The caller's rbp is saved at CFA + {@code rbpOffset}. */
        SAVED_AT_CFA(RecordLayout.RBP_SAVED_AT_CFA),
        /** CFI recovers rbp some way the walker cannot follow: later frames must not rely on rbp. */
        LOST(RecordLayout.RBP_LOST);

        public final int code;

        RbpKind(int code) {
            this.code = code;
        }
    }

    /**
     * Size of one rule in the kernel's rule array. A method, not a constant: initialising RecordLayout builds every
     * kernel layout and its VarHandles, which building a table does not need (a fresh JVM's first build would pay
     * for it).
     */
    public static int kernelBytes() {
        return (int) RecordLayout.UNWIND_RULE.byteSize();
    }

    public static final UnwindRule INVALID = new UnwindRule(Kind.INVALID, 0, RbpKind.UNCHANGED, (short) 0);
    public static final UnwindRule UNSUPPORTED = new UnwindRule(Kind.UNSUPPORTED, 0, RbpKind.UNCHANGED, (short) 0);
    public static final UnwindRule SIGNAL = new UnwindRule(Kind.SIGNAL, 0, RbpKind.UNCHANGED, (short) 0);
    public static final UnwindRule END = new UnwindRule(Kind.END, 0, RbpKind.UNCHANGED, (short) 0);

    public static UnwindRule plt(int baseOffset, int threshold) {
        return new UnwindRule(Kind.PLT, baseOffset, RbpKind.UNCHANGED, (short) threshold);
    }

    /** For {@link Kind#PLT}: the (rip &amp; 15) value from which the stub has pushed one more word. */
    public int pltThreshold() {
        return kind == Kind.PLT ? rbpOffset : 0;
    }

    /** Writes this rule as {@code struct mw_unwind_rule} at {@code base} of {@code out}. */
    public void writeTo(MemorySegment out, long base) {
        RecordLayout.UNWIND_RULE_KIND.set(out, base, (byte) kind.code);
        RecordLayout.UNWIND_RULE_RBP_KIND.set(out, base, (byte) rbpKind.code);
        RecordLayout.UNWIND_RULE_RBP_OFFSET.set(out, base, rbpOffset);
        RecordLayout.UNWIND_RULE_CFA_OFFSET.set(out, base, cfaOffset);
    }

    /*
     * Written out instead of the record's generated ones: RuleDictionary.intern hashes every row of every table,
     * and the generated methods bootstrap through invokedynamic (ObjectMethods), a cost each fresh JVM pays on its
     * first table build and that C1 code keeps paying per call.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof UnwindRule r && kind == r.kind && cfaOffset == r.cfaOffset && rbpKind == r.rbpKind
                && rbpOffset == r.rbpOffset;
    }

    @Override
    public int hashCode() {
        return ((kind.ordinal() * 31 + cfaOffset) * 31 + rbpKind.ordinal()) * 31 + rbpOffset;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case CFA_RSP, CFA_RBP, CFA_RSP_BLOB -> (kind == Kind.CFA_RBP ? "rbp" : "rsp") + (cfaOffset >= 0 ? "+" : "")
                    + cfaOffset + (kind == Kind.CFA_RSP_BLOB ? " blob" : "")
                    + switch (rbpKind) {
                        case UNCHANGED -> "";
                        case SAVED_AT_CFA -> " rbp@c" + rbpOffset;
                        case LOST -> " rbp?";
                    };
            case PLT -> "plt(rsp+" + cfaOffset + ",>=" + rbpOffset + ")";
            default -> kind.name();
        };
    }
}
