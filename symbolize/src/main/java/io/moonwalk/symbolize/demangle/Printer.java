package io.moonwalk.symbolize.demangle;

import java.util.List;

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
    /**
     * Last character appended, deliberately not reset by {@link #truncate}: c++filt decides between
     * {@code >>} and {@code > >} from it, and after dropping the ", " of an empty pack it still sees
     * the space. Matching that keeps our output byte-identical.
     */
    private char lastChar;
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
        if (!s.isEmpty()) {
            lastChar = s.charAt(s.length() - 1);
        }
    }

    void append(char c) {
        if (out.length() >= MAX_OUTPUT) {
            throw DemangleFailure.INSTANCE;
        }
        out.append(c);
        lastChar = c;
    }

    char last() {
        return lastChar;
    }

    /** Undoes output including its effect on {@link #last()}, for text c++filt never printed. */
    void rollback(int len, char last) {
        out.setLength(len);
        lastChar = last;
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

    /** What a pack (at the element being expanded) or a forward reference stands for right now. */
    Node resolve(Node n) {
        if (n instanceof Node.PackParam pp && packIndex >= 0) {
            List<Node> items = pp.pack.items;
            if (packSize < 0) {
                packSize = items.size();
            }
            return packIndex < items.size() ? items.get(packIndex) : n;
        }
        if (n instanceof Node.ForwardRef f) {
            Node t = f.enter();
            f.leave();
            return t;
        }
        return n;
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
