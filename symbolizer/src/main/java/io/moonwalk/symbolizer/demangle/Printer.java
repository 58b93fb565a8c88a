package io.moonwalk.symbolizer.demangle;

/**
 * Output buffer for rendering a demangled tree. Substitutions make the tree a DAG, so a short hostile
 * symbol can expand exponentially: output length, nesting depth and the number of print steps are all
 * capped, and exceeding any cap abandons the rendering.
 */
final class Printer {
    static final int MAX_OUTPUT = 64 * 1024;
    private static final int MAX_DEPTH = 400;
    private static final int MAX_STEPS = 500_000;

    private final StringBuilder out = new StringBuilder(96);
    private int depth;
    private int steps;
    /** Element of the pack being expanded by the innermost {@code Dp}, or -1 outside an expansion. */
    int packIndex = -1;
    /** Size of the first pack met during the current expansion, or -1 if none was met. */
    int packSize = -1;

    void append(String s) {
        if (out.length() + s.length() > MAX_OUTPUT) {
            throw DemangleFailure.INSTANCE;
        }
        out.append(s);
    }

    void append(char c) {
        if (out.length() >= MAX_OUTPUT) {
            throw DemangleFailure.INSTANCE;
        }
        out.append(c);
    }

    char last() {
        return out.isEmpty() ? '\0' : out.charAt(out.length() - 1);
    }

    int length() {
        return out.length();
    }

    void truncate(int len) {
        out.setLength(len);
    }

    void print(Node n) {
        enter();
        n.printLeft(this);
        n.printRight(this);
        depth--;
    }

    void left(Node n) {
        enter();
        n.printLeft(this);
        depth--;
    }

    void right(Node n) {
        enter();
        n.printRight(this);
        depth--;
    }

    private void enter() {
        if (++depth > MAX_DEPTH || ++steps > MAX_STEPS) {
            throw DemangleFailure.INSTANCE;
        }
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
