package io.moonwalk.unwinder.cfi;

import java.util.ArrayList;
import java.util.List;

/**
 * Interprets DW_CFA instructions (DWARF 5 §6.4.2) into rows. Rows are emitted the way binutils' readelf
 * {@code --debug-dump=frames-interp} prints them (a row before every location change, one at the end unless the
 * FDE program is only padding), so the two can be compared row by row.
 *
 * <p>Bounded by construction: instructions only move forward through a length-checked record, the
 * remember_state stack has a fixed depth, and expressions are copied, never executed.
 */
final class CfaProgramEvaluator {
    /** Real compilers nest remember_state once or twice; deeper stacks are hostile input. */
    static final int MAX_STATE_DEPTH = 64;
    private static final int RBP = 6;

    private final CfiReader r;
    private final CfiSection.Kind kind;

    // current state
    private int cfaReg;
    private long cfaOffset;
    private byte[] cfaExpr;
    private RegisterRule rbp;
    private RegisterRule ra;

    // CIE initial state, for DW_CFA_restore
    private RegisterRule initialRbp;
    private RegisterRule initialRa;

    private record SavedState(int cfaReg, long cfaOffset, byte[] cfaExpr, RegisterRule rbp, RegisterRule ra) {
    }

    private final SavedState[] stack = new SavedState[MAX_STATE_DEPTH];
    private int depth;

    CfaProgramEvaluator(CfiReader reader, CfiSection.Kind kind) {
        this.r = reader;
        this.kind = kind;
    }

    List<CfaRow> evaluate(Fde fde) throws CfiFormatException {
        Cie cie = fde.cie();
        cfaReg = -1;
        cfaOffset = 0;
        cfaExpr = null;
        rbp = RegisterRule.UNREFERENCED;
        ra = RegisterRule.UNREFERENCED;
        depth = 0;
        initialRbp = RegisterRule.UNREFERENCED;
        initialRa = RegisterRule.UNREFERENCED;
        long[] loc = {fde.pcBegin()};
        List<CfaRow> ignored = new ArrayList<>();
        try {
            run(cie, fde, cie.instructionsStart(), cie.instructionsEnd(), loc, ignored, true);
        } catch (CfiFormatException e) {
            throw new CfiFormatException("CIE at " + CfiReader.hex(cie.offset()) + " initial instructions: "
                    + e.getMessage());
        }
        initialRbp = rbp;
        initialRa = ra;
        depth = 0;
        loc[0] = fde.pcBegin();
        List<CfaRow> rows = new ArrayList<>();
        run(cie, fde, fde.instructionsStart(), fde.instructionsEnd(), loc, rows, false);
        rows.add(row(loc[0])); // readelf omits it for all-nop programs; the table needs the CIE's row then too
        return rows;
    }

    private CfaRow row(long location) {
        return new CfaRow(location, cfaReg, cfaOffset, cfaExpr, rbp, ra);
    }

    /** Returns true if the program held nothing but DW_CFA_nop. */
    private boolean run(Cie cie, Fde fde, int start, int end, long[] loc, List<CfaRow> rows, boolean inCie)
            throws CfiFormatException {
        r.setBounds(start, end);
        boolean allNops = true;
        long caf = cie.codeAlignment();
        long daf = cie.dataAlignment();
        int raCol = cie.returnAddressColumn();
        while (r.hasRemaining()) {
            int at = r.position();
            int op = r.u8();
            if (op != 0) {
                allNops = false;
            }
            int high = op & 0xc0;
            int low = op & 0x3f;
            if (high == 0x40) {
                advance(loc, low * caf, rows);
                continue;
            }
            if (high == 0x80) {
                setRule(low, new RegisterRule(RegisterRule.Kind.OFFSET, r.uleb() * daf), raCol);
                continue;
            }
            if (high == 0xc0) {
                restore(low, raCol, inCie);
                continue;
            }
            switch (op) {
                case 0x00 -> { } // DW_CFA_nop
                case 0x01 -> { // DW_CFA_set_loc
                    long target = kind == CfiSection.Kind.EH_FRAME
                            ? r.encodedPointer(cie.fdeEncoding(), PointerBases.NONE, cie.addressSize())
                            : r.address(cie.addressSize());
                    rows.add(row(loc[0]));
                    loc[0] = target;
                }
                case 0x02 -> advance(loc, r.u8() * caf, rows);
                case 0x03 -> advance(loc, r.u16() * caf, rows);
                case 0x04 -> advance(loc, r.u32() * caf, rows);
                case 0x05 -> setRule(reg(), new RegisterRule(RegisterRule.Kind.OFFSET, r.uleb() * daf), raCol);
                case 0x06 -> restore(reg(), raCol, inCie);
                case 0x07 -> setRule(reg(), RegisterRule.UNDEFINED, raCol);
                case 0x08 -> setRule(reg(), RegisterRule.SAME_VALUE, raCol);
                case 0x09 -> {
                    long target = reg();
                    setRule(target, new RegisterRule(RegisterRule.Kind.REGISTER, reg()), raCol);
                }
                case 0x0a -> remember(at);
                case 0x0b -> restoreState(at);
                case 0x0c -> {
                    cfaReg = (int) reg();
                    cfaOffset = r.uleb();
                    cfaExpr = null;
                }
                case 0x0d -> {
                    cfaReg = (int) reg();
                    cfaExpr = null;
                }
                case 0x0e -> cfaOffset = r.uleb();
                case 0x0f -> cfaExpr = block();
                case 0x10 -> {
                    long target = reg();
                    block();
                    setRule(target, RegisterRule.EXPRESSION, raCol);
                }
                case 0x11 -> setRule(reg(), new RegisterRule(RegisterRule.Kind.OFFSET, r.sleb() * daf), raCol);
                case 0x12 -> {
                    cfaReg = (int) reg();
                    cfaOffset = r.sleb() * daf;
                    cfaExpr = null;
                }
                case 0x13 -> cfaOffset = r.sleb() * daf;
                case 0x14 -> setRule(reg(), new RegisterRule(RegisterRule.Kind.VAL_OFFSET, r.uleb() * daf), raCol);
                case 0x15 -> setRule(reg(), new RegisterRule(RegisterRule.Kind.VAL_OFFSET, r.sleb() * daf), raCol);
                case 0x16 -> {
                    long target = reg();
                    block();
                    setRule(target, RegisterRule.VAL_EXPRESSION, raCol);
                }
                case 0x2d -> { } // DW_CFA_GNU_window_save / AArch64 negate_ra_state: nothing to do on x86_64
                case 0x2e -> r.uleb(); // DW_CFA_GNU_args_size: only matters when landing in a handler
                case 0x2f -> setRule(reg(), new RegisterRule(RegisterRule.Kind.OFFSET, -r.uleb() * daf), raCol);
                default -> throw new CfiFormatException("unknown CFA opcode 0x" + Integer.toHexString(op)
                        + " at offset " + CfiReader.hex(at) + " (FDE " + CfiReader.hex(fde.offset()) + ")");
            }
        }
        return allNops;
    }

    private void advance(long[] loc, long delta, List<CfaRow> rows) {
        rows.add(row(loc[0]));
        loc[0] += delta;
    }

    private long reg() throws CfiFormatException {
        long reg = r.uleb();
        if (reg < 0 || reg > 0xffff) {
            throw new CfiFormatException("register number " + reg + " out of range at offset "
                    + CfiReader.hex(r.position()));
        }
        return reg;
    }

    private byte[] block() throws CfiFormatException {
        long len = r.uleb();
        if (len < 0 || len > r.remaining()) {
            throw new CfiFormatException("expression of " + len + " bytes runs past its entry at offset "
                    + CfiReader.hex(r.position()));
        }
        return r.bytes((int) len);
    }

    private void setRule(long reg, RegisterRule rule, int raCol) {
        if (reg == raCol) {
            ra = rule;
        } else if (reg == RBP) {
            rbp = rule;
        }
    }

    private void restore(long reg, int raCol, boolean inCie) throws CfiFormatException {
        if (inCie) {
            throw new CfiFormatException("DW_CFA_restore in CIE initial instructions");
        }
        if (reg == raCol) {
            ra = initialRa;
        } else if (reg == RBP) {
            rbp = initialRbp;
        }
    }

    private void remember(int at) throws CfiFormatException {
        if (depth == MAX_STATE_DEPTH) {
            throw new CfiFormatException("DW_CFA_remember_state nested deeper than " + MAX_STATE_DEPTH
                    + " at offset " + CfiReader.hex(at));
        }
        stack[depth++] = new SavedState(cfaReg, cfaOffset, cfaExpr, rbp, ra);
    }

    private void restoreState(int at) throws CfiFormatException {
        if (depth == 0) {
            throw new CfiFormatException("DW_CFA_restore_state without remember_state at offset "
                    + CfiReader.hex(at));
        }
        SavedState s = stack[--depth];
        cfaReg = s.cfaReg();
        cfaOffset = s.cfaOffset();
        cfaExpr = s.cfaExpr();
        rbp = s.rbp();
        ra = s.ra();
    }
}
