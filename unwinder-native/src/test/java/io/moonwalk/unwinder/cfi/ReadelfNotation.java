package io.moonwalk.unwinder.cfi;

/** Renders our rows in readelf's frames-interp cell notation, so a mismatch prints both sides readably. */
final class ReadelfNotation {
    private static final String[] X86_64 = {"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
        "r10", "r11", "r12", "r13", "r14", "r15", "rip"};

    private ReadelfNotation() {
    }

    static String reg(long n) {
        return n >= 0 && n < X86_64.length ? X86_64[(int) n] : "r" + n;
    }

    static String cfa(CfaRow row) {
        if (row.cfaIsExpression()) {
            return "exp";
        }
        int off = (int) row.cfaOffset();
        return reg(row.cfaRegister()) + (off >= 0 ? "+" : "") + off;
    }

    static String rule(RegisterRule r) {
        int v = (int) r.value();
        String signed = (v >= 0 ? "+" : "") + v;
        return switch (r.kind()) {
            case UNREFERENCED, UNDEFINED -> "u";
            case SAME_VALUE -> "s";
            case OFFSET -> "c" + signed;
            case VAL_OFFSET -> "v" + signed;
            case REGISTER -> "r" + r.value() + " (" + reg(r.value()) + ")";
            case EXPRESSION -> "exp";
            case VAL_EXPRESSION -> "vexp";
        };
    }

    static String row(CfaRow row) {
        return String.format("%016x %s rbp=%s ra=%s", row.location(), cfa(row), rule(row.rbp()),
                rule(row.returnAddress()));
    }

    static String row(ReadelfFrames.Row row) {
        return String.format("%016x %s rbp=%s ra=%s", row.loc(), row.cell("CFA"), row.cell("rbp"), row.cell("ra"));
    }
}
