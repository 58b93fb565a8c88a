package io.moonwalk.unwinder.cfi;

/**
 * How to recover one register of the caller (DWARF 5 §6.4.1 register rules). {@code value} is the CFA offset for
 * OFFSET/VAL_OFFSET and the source register number for REGISTER; unused otherwise.
 */
public record RegisterRule(Kind kind, long value) {
    public enum Kind {
        /** Never mentioned by the CIE or FDE: the ABI default (callee-saved registers keep their value). */
        UNREFERENCED, UNDEFINED, SAME_VALUE, OFFSET, VAL_OFFSET, REGISTER, EXPRESSION, VAL_EXPRESSION
    }

    public static final RegisterRule UNREFERENCED = new RegisterRule(Kind.UNREFERENCED, 0);
    public static final RegisterRule UNDEFINED = new RegisterRule(Kind.UNDEFINED, 0);
    public static final RegisterRule SAME_VALUE = new RegisterRule(Kind.SAME_VALUE, 0);
    public static final RegisterRule EXPRESSION = new RegisterRule(Kind.EXPRESSION, 0);
    public static final RegisterRule VAL_EXPRESSION = new RegisterRule(Kind.VAL_EXPRESSION, 0);
}
