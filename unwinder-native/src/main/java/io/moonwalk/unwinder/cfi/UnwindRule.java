package io.moonwalk.unwinder.cfi;

/**
 * What the in-kernel x86_64 walker does at a PC. Laid out for the kernel as 8 bytes
 * ({@code struct { u8 kind; u8 rbp_kind; s16 rbp_offset; s32 cfa_offset; }}, see {@link #packed()}).
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

    /** Numeric values are part of the kernel ABI: do not reorder. */
    public enum Kind { INVALID, CFA_RSP, CFA_RBP, PLT, SIGNAL, END, UNSUPPORTED, CFA_RSP_BLOB }

    /** How to recover the caller's rbp. Numeric values are part of the kernel ABI. */
    public enum RbpKind {
        /** rbp was not touched (or explicitly same-value): the caller's rbp is the current rbp. */
        UNCHANGED,
        /** The caller's rbp is saved at CFA + {@code rbpOffset}. */
        SAVED_AT_CFA,
        /** CFI recovers rbp some way the walker cannot follow: later frames must not rely on rbp. */
        LOST
    }

    /** Size of one packed rule in the kernel's rule array. */
    public static final int PACKED_BYTES = 8;

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

    /** Little-endian image of the kernel struct: kind, rbp_kind, rbp_offset (s16), cfa_offset (s32). */
    public long packed() {
        return (kind.ordinal() & 0xffL)
                | (rbpKind.ordinal() & 0xffL) << 8
                | (rbpOffset & 0xffffL) << 16
                | (cfaOffset & 0xffff_ffffL) << 32;
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
