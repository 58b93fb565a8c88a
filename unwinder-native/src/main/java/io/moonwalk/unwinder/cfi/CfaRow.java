package io.moonwalk.unwinder.cfi;

/**
 * One row of the evaluated CFI table: from {@code location} on (until the next row) the CFA is
 * {@code cfaRegister + cfaOffset}, or the DWARF expression {@code cfaExpression} when that is non-null.
 * Only the registers an x86_64 frame walk needs are kept: rbp and the return address column.
 */
public record CfaRow(long location, int cfaRegister, long cfaOffset, byte[] cfaExpression, RegisterRule rbp,
        RegisterRule returnAddress) {

    public boolean cfaIsExpression() {
        return cfaExpression != null;
    }
}
