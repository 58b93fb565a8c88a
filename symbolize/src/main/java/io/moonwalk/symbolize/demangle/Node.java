package io.moonwalk.symbolize.demangle;

import java.util.List;

/**
 * A node of a demangled Itanium name. Declarators split into a left and a right part so that
 * {@code void (*)(int)} and {@code int (&) [3]} come out the way c++filt writes them: the pointer goes
 * between the left part (return/element type) and the right part (parameters/bounds).
 */
abstract class Node {
    static final int CONST = 1;
    static final int VOLATILE = 2;
    static final int RESTRICT = 4;

    abstract void printLeft(Printer p);

    void printRight(Printer p) {
    }

    /** True when some part must print after a declarator (function parameters, array bounds). */
    boolean hasRight(Printer p) {
        return false;
    }

    boolean isArray(Printer p) {
        return false;
    }

    boolean isFunction(Printer p) {
        return false;
    }

    /** Expressions that c++filt prints without wrapping parentheses. */
    boolean isSimpleExpr() {
        return false;
    }

    /** Pointer, reference or cv-qualifier wrapper; such types become substitution candidates. */
    static void appendQuals(Printer p, int quals) {
        if ((quals & CONST) != 0) {
            p.append(" const");
        }
        if ((quals & VOLATILE) != 0) {
            p.append(" volatile");
        }
        if ((quals & RESTRICT) != 0) {
            p.append(" restrict");
        }
    }

    /**
     * Comma-separated like c++filt: when the rest of the list prints nothing (empty packs) its ", " is
     * removed, but an empty element before a non-empty one leaves {@code , ,} as c++filt does.
     */
    static void printList(Printer p, List<Node> items) {
        int n = items.size();
        if (n == 0) {
            return;
        }
        p.print(items.get(0));
        if (n == 1) {
            return;
        }
        int[] marks = new int[n];
        for (int i = 1; i < n; i++) {
            p.append(", ");
            marks[i] = p.length();
            p.print(items.get(i));
        }
        for (int i = n - 1; i >= 1; i--) {
            if (p.length() == marks[i]) {
                p.truncate(marks[i] - 2);
            }
        }
    }

    static void printSubexpr(Printer p, Node n) {
        if (n.isSimpleExpr()) {
            p.print(n);
        } else {
            p.append('(');
            p.print(n);
            p.append(')');
        }
    }

    static final class Name extends Node {
        final String text;

        Name(String text) {
            this.text = text;
        }

        @Override
        void printLeft(Printer p) {
            p.append(text);
        }

        @Override
        boolean isSimpleExpr() {
            return true;
        }
    }

    static final class Qualified extends Node {
        final Node scope;
        final Node name;

        Qualified(Node scope, Node name) {
            this.scope = scope;
            this.name = name;
        }

        @Override
        void printLeft(Printer p) {
            p.print(scope);
            p.append("::");
            p.print(name);
        }

        @Override
        boolean isSimpleExpr() {
            return true;
        }
    }

    static final class Template extends Node {
        final Node name;
        final TemplateArgs args;

        Template(Node name, TemplateArgs args) {
            this.name = name;
            this.args = args;
        }

        @Override
        void printLeft(Printer p) {
            p.print(name);
            p.print(args);
        }
    }

    static final class TemplateArgs extends Node {
        final List<Node> args;

        TemplateArgs(List<Node> args) {
            this.args = args;
        }

        @Override
        void printLeft(Printer p) {
            if (p.last() == '<') {
                p.append(' ');
            }
            p.append('<');
            printList(p, args);
            if (p.last() == '>') {
                p.append(' ');
            }
            p.append('>');
        }
    }

    /** A template argument pack ({@code J...E}) as written in an argument list: all elements. */
    static final class Pack extends Node {
        final List<Node> items;

        Pack(List<Node> items) {
            this.items = items;
        }

        @Override
        void printLeft(Printer p) {
            printList(p, items);
        }
    }

    /**
     * A template parameter that names a pack. Inside a pack expansion ({@code Dp}) it stands for the
     * element being expanded; elsewhere for the whole list.
     */
    static final class PackParam extends Node {
        final Pack pack;

        PackParam(Pack pack) {
            this.pack = pack;
        }

        @Override
        void printLeft(Printer p) {
            Node n = p.resolve(this);
            if (n == this) {
                if (p.packIndex < 0) {
                    p.print(pack);
                }
                return;
            }
            p.left(n);
        }

        @Override
        void printRight(Printer p) {
            Node n = p.resolve(this);
            if (n != this) {
                p.right(n);
            }
        }

        @Override
        boolean hasRight(Printer p) {
            Node n = p.resolve(this);
            return n != this && n.hasRight(p);
        }

        @Override
        boolean isArray(Printer p) {
            Node n = p.resolve(this);
            return n != this && n.isArray(p);
        }

        @Override
        boolean isFunction(Printer p) {
            Node n = p.resolve(this);
            return n != this && n.isFunction(p);
        }
    }

    static final class PackExpansion extends Node {
        final Node pattern;

        PackExpansion(Node pattern) {
            this.pattern = pattern;
        }

        @Override
        void printLeft(Printer p) {
            int savedIndex = p.packIndex;
            int savedSize = p.packSize;
            int start = p.length();
            char lastBefore = p.last();
            p.packIndex = 0;
            p.packSize = -1;
            p.print(pattern);
            int size = p.packSize;
            if (size < 0) {
                p.append("...");
            } else if (size == 0) {
                p.rollback(start, lastBefore);
            } else {
                for (int i = 1; i < size; i++) {
                    p.append(", ");
                    p.packIndex = i;
                    p.print(pattern);
                }
            }
            p.packIndex = savedIndex;
            p.packSize = savedSize;
        }
    }

    /**
     * A template parameter whose argument list was not yet known when it was parsed (the type of a
     * conversion operator template). Hostile input can make it refer to itself; the flag stops that.
     */
    static final class ForwardRef extends Node {
        final int index;
        Node target;
        private boolean active;

        ForwardRef(int index) {
            this.index = index;
        }

        Node enter() {
            if (target == null || active) {
                throw DemangleFailure.INSTANCE;
            }
            active = true;
            return target;
        }

        void leave() {
            active = false;
        }

        @Override
        void printLeft(Printer p) {
            Node t = enter();
            try {
                p.left(t);
            } finally {
                active = false;
            }
        }

        @Override
        void printRight(Printer p) {
            Node t = enter();
            try {
                p.right(t);
            } finally {
                active = false;
            }
        }

        @Override
        boolean hasRight(Printer p) {
            Node t = enter();
            try {
                return t.hasRight(p);
            } finally {
                active = false;
            }
        }

        @Override
        boolean isArray(Printer p) {
            Node t = enter();
            try {
                return t.isArray(p);
            } finally {
                active = false;
            }
        }

        @Override
        boolean isFunction(Printer p) {
            Node t = enter();
            try {
                return t.isFunction(p);
            } finally {
                active = false;
            }
        }
    }

    /** Pointer ({@code *}), lvalue ({@code &}) or rvalue ({@code &&}) reference. */
    static final class Pointer extends Node {
        private static final int MAX_COLLAPSE = 64;
        final Node pointee;
        final String symbol;

        Pointer(Node pointee, String symbol) {
            this.pointee = pointee;
            this.symbol = symbol;
        }

        private boolean isReference() {
            return symbol.length() > 0 && symbol.charAt(0) == '&';
        }

        /**
         * Reference collapsing through template arguments and pack elements, which are only known
         * while printing: {@code T&&} with {@code T = int&} prints {@code int&}.
         */
        private Pointer collapsed(Printer p) {
            if (!isReference()) {
                return this;
            }
            Node target = pointee;
            String sym = symbol;
            for (int i = 0; i < MAX_COLLAPSE; i++) {
                Node t = p.resolve(target);
                if (t instanceof Pointer q && q.isReference()) {
                    sym = sym.equals("&") || q.symbol.equals("&") ? "&" : "&&";
                    target = q.pointee;
                } else {
                    break;
                }
            }
            return target == pointee ? this : new Pointer(target, sym);
        }

        @Override
        void printLeft(Printer p) {
            Pointer c = collapsed(p);
            p.left(c.pointee);
            boolean array = c.pointee.isArray(p);
            if (array) {
                p.append(' ');
            }
            if (array || c.pointee.isFunction(p)) {
                p.append('(');
            }
            p.append(c.symbol);
        }

        @Override
        void printRight(Printer p) {
            Pointer c = collapsed(p);
            if (c.pointee.isArray(p) || c.pointee.isFunction(p)) {
                p.append(')');
            }
            p.right(c.pointee);
        }

        @Override
        boolean hasRight(Printer p) {
            return pointee.hasRight(p);
        }
    }

    static final class Qual extends Node {
        final Node inner;
        final int quals;

        Qual(Node inner, int quals) {
            this.inner = inner;
            this.quals = quals;
        }

        @Override
        void printLeft(Printer p) {
            p.left(inner);
            appendQuals(p, quals);
        }

        @Override
        void printRight(Printer p) {
            p.right(inner);
        }

        @Override
        boolean hasRight(Printer p) {
            return inner.hasRight(p);
        }

        @Override
        boolean isArray(Printer p) {
            return inner.isArray(p);
        }
    }

    /** A type followed by a word: vendor qualifiers, {@code _Complex}, {@code __vector(4)}. */
    static final class Suffixed extends Node {
        final Node inner;
        final Node suffix;

        Suffixed(Node inner, Node suffix) {
            this.inner = inner;
            this.suffix = suffix;
        }

        @Override
        void printLeft(Printer p) {
            p.left(inner);
            p.append(' ');
            p.print(suffix);
        }

        @Override
        void printRight(Printer p) {
            p.right(inner);
        }
    }

    static final class FunctionType extends Node {
        final Node ret;
        final List<Node> params;
        final int quals;
        final String refQual;
        final Node exceptionSpec;

        FunctionType(Node ret, List<Node> params, int quals, String refQual, Node exceptionSpec) {
            this.ret = ret;
            this.params = params;
            this.quals = quals;
            this.refQual = refQual;
            this.exceptionSpec = exceptionSpec;
        }

        FunctionType withQuals(int q, Node exception) {
            return new FunctionType(ret, params, quals | q, refQual,
                    exception != null ? exception : exceptionSpec);
        }

        @Override
        void printLeft(Printer p) {
            if (ret != null) {
                p.left(ret);
                if (!ret.hasRight(p)) {
                    p.append(' ');
                }
            }
        }

        @Override
        void printRight(Printer p) {
            p.append('(');
            printList(p, params);
            p.append(')');
            if (ret != null) {
                p.right(ret);
            }
            appendQuals(p, quals);
            if (refQual != null) {
                p.append(refQual);
            }
            if (exceptionSpec != null) {
                p.print(exceptionSpec);
            }
        }

        @Override
        boolean hasRight(Printer p) {
            return true;
        }

        @Override
        boolean isFunction(Printer p) {
            return true;
        }
    }

    static final class ArrayType extends Node {
        final Node element;
        final Node dimension;

        ArrayType(Node element, Node dimension) {
            this.element = element;
            this.dimension = dimension;
        }

        @Override
        void printLeft(Printer p) {
            p.left(element);
        }

        @Override
        void printRight(Printer p) {
            if (p.last() != ']') {
                p.append(' ');
            }
            p.append('[');
            if (dimension != null) {
                p.print(dimension);
            }
            p.append(']');
            p.right(element);
        }

        @Override
        boolean hasRight(Printer p) {
            return true;
        }

        @Override
        boolean isArray(Printer p) {
            return true;
        }
    }

    static final class MemberPointer extends Node {
        final Node cls;
        final Node member;

        MemberPointer(Node cls, Node member) {
            this.cls = cls;
            this.member = member;
        }

        @Override
        void printLeft(Printer p) {
            p.left(member);
            if (member.isArray(p) || member.isFunction(p)) {
                p.append('(');
            } else {
                p.append(' ');
            }
            p.print(cls);
            p.append("::*");
        }

        @Override
        void printRight(Printer p) {
            if (member.isArray(p) || member.isFunction(p)) {
                p.append(')');
            }
            p.right(member);
        }

        @Override
        boolean hasRight(Printer p) {
            return member.hasRight(p);
        }
    }

    /** A function: optional return type, name, parameters and member-function qualifiers. */
    static final class Encoding extends Node {
        final Node ret;
        final Node name;
        final List<Node> params;
        final int quals;
        final String refQual;

        Encoding(Node ret, Node name, List<Node> params, int quals, String refQual) {
            this.ret = ret;
            this.name = name;
            this.params = params;
            this.quals = quals;
            this.refQual = refQual;
        }

        @Override
        void printLeft(Printer p) {
            if (ret != null) {
                p.left(ret);
                if (!ret.hasRight(p)) {
                    p.append(' ');
                }
            }
            p.print(name);
        }

        @Override
        void printRight(Printer p) {
            p.append('(');
            printList(p, params);
            p.append(')');
            if (ret != null) {
                p.right(ret);
            }
            appendQuals(p, quals);
            if (refQual != null) {
                p.append(refQual);
            }
        }
    }

    /** Text before a child: "vtable for ", "operator ", "{default arg#1}::" and the like. */
    static final class Prefixed extends Node {
        final String prefix;
        final Node child;

        Prefixed(String prefix, Node child) {
            this.prefix = prefix;
            this.child = child;
        }

        @Override
        void printLeft(Printer p) {
            p.append(prefix);
            p.print(child);
        }
    }

    /** Two children around fixed text: "A::x", "construction vtable for B-in-A", clone suffixes. */
    static final class Joined extends Node {
        final String before;
        final Node first;
        final String middle;
        final Node second;
        final String after;

        Joined(String before, Node first, String middle, Node second, String after) {
            this.before = before;
            this.first = first;
            this.middle = middle;
            this.second = second;
            this.after = after;
        }

        @Override
        void printLeft(Printer p) {
            p.append(before);
            p.print(first);
            p.append(middle);
            if (second != null) {
                p.print(second);
            }
            p.append(after);
        }
    }

    /** {@code {lambda(int)#1}}, {@code [a, b]}, function-call arguments and the like. */
    static final class Bracketed extends Node {
        final String open;
        final List<Node> items;
        final String close;
        final boolean simple;

        Bracketed(String open, List<Node> items, String close, boolean simple) {
            this.open = open;
            this.items = items;
            this.close = close;
            this.simple = simple;
        }

        @Override
        void printLeft(Printer p) {
            p.append(open);
            printList(p, items);
            p.append(close);
        }

        @Override
        boolean isSimpleExpr() {
            return simple;
        }
    }

    static final class CtorDtor extends Node {
        final String name;
        final boolean dtor;

        CtorDtor(String name, boolean dtor) {
            this.name = name;
            this.dtor = dtor;
        }

        @Override
        void printLeft(Printer p) {
            if (dtor) {
                p.append('~');
            }
            p.append(name);
        }
    }

    /** A literal: c++filt spells int-like ones with suffixes and others as {@code (type)value}. */
    static final class Literal extends Node {
        final Node type;
        final String value;
        final boolean negative;

        Literal(Node type, String value, boolean negative) {
            this.type = type;
            this.value = value;
            this.negative = negative;
        }

        @Override
        void printLeft(Printer p) {
            if (type instanceof Name n && !value.isEmpty()) {
                String suffix = switch (n.text) {
                    case "int" -> "";
                    case "unsigned int" -> "u";
                    case "long" -> "l";
                    case "unsigned long" -> "ul";
                    case "long long" -> "ll";
                    case "unsigned long long" -> "ull";
                    default -> null;
                };
                if (suffix != null) {
                    if (negative) {
                        p.append('-');
                    }
                    p.append(value);
                    p.append(suffix);
                    return;
                }
                if (n.text.equals("bool") && !negative && value.length() == 1
                        && (value.charAt(0) == '0' || value.charAt(0) == '1')) {
                    p.append(value.charAt(0) == '1' ? "true" : "false");
                    return;
                }
            }
            boolean floating = type instanceof Name n && (n.text.equals("float") || n.text.equals("double")
                    || n.text.equals("long double") || n.text.equals("__float128"));
            p.append('(');
            p.print(type);
            p.append(')');
            if (negative) {
                p.append('-');
            }
            if (floating) {
                p.append('[');
            }
            p.append(value);
            if (floating) {
                p.append(']');
            }
        }
    }

    /** Operator applied before its operand: {@code -x}, {@code sizeof x}, {@code (int)x}. */
    static final class PrefixExpr extends Node {
        final String op;
        final Node operand;
        final boolean forceParens;

        PrefixExpr(String op, Node operand, boolean forceParens) {
            this.op = op;
            this.operand = operand;
            this.forceParens = forceParens;
        }

        @Override
        void printLeft(Printer p) {
            p.append(op);
            if (forceParens) {
                p.append('(');
                p.print(operand);
                p.append(')');
            } else {
                printSubexpr(p, operand);
            }
        }
    }

    static final class PostfixExpr extends Node {
        final Node operand;
        final String op;

        PostfixExpr(Node operand, String op) {
            this.operand = operand;
            this.op = op;
        }

        @Override
        void printLeft(Printer p) {
            printSubexpr(p, operand);
            p.append(op);
        }
    }

    static final class BinaryExpr extends Node {
        final Node left;
        final String op;
        final Node right;

        BinaryExpr(Node left, String op, Node right) {
            this.left = left;
            this.op = op;
            this.right = right;
        }

        @Override
        void printLeft(Printer p) {
            // '>' would close a template argument list, so c++filt adds a layer of parentheses.
            boolean gt = op.equals(">");
            if (gt) {
                p.append('(');
            }
            printSubexpr(p, left);
            if (op.equals("[]")) {
                p.append('[');
                p.print(right);
                p.append(']');
            } else {
                p.append(op);
                printSubexpr(p, right);
            }
            if (gt) {
                p.append(')');
            }
        }
    }

    static final class CallExpr extends Node {
        final Node callee;
        final List<Node> args;

        CallExpr(Node callee, List<Node> args) {
            this.callee = callee;
            this.args = args;
        }

        @Override
        void printLeft(Printer p) {
            printSubexpr(p, callee);
            p.append('(');
            printList(p, args);
            p.append(')');
        }
    }

    static final class ConditionalExpr extends Node {
        final Node cond;
        final Node then;
        final Node otherwise;

        ConditionalExpr(Node cond, Node then, Node otherwise) {
            this.cond = cond;
            this.then = then;
            this.otherwise = otherwise;
        }

        @Override
        void printLeft(Printer p) {
            printSubexpr(p, cond);
            p.append('?');
            printSubexpr(p, then);
            p.append(" : ");
            printSubexpr(p, otherwise);
        }
    }

    /** {@code static_cast<T>(e)} and its siblings. */
    static final class NamedCast extends Node {
        final String kind;
        final Node type;
        final Node operand;

        NamedCast(String kind, Node type, Node operand) {
            this.kind = kind;
            this.type = type;
            this.operand = operand;
        }

        @Override
        void printLeft(Printer p) {
            p.append(kind);
            p.append('<');
            p.print(type);
            p.append(">(");
            p.print(operand);
            p.append(')');
        }
    }
}
