package io.moonwalk.symbolize.demangle;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Recursive-descent parser for Itanium C++ ABI mangled names ({@code _Z...}), producing a {@link Node}
 * tree rendered the way GNU c++filt renders it (it is our ground truth, so its quirks are kept:
 * {@code std::string} spelled out in full, {@code (char)65} literals, discriminators dropped).
 *
 * <p>Every budget is checked while parsing: recursion depth, substitution table size, template
 * arguments per list. One instance parses one symbol.
 */
final class ItaniumParser {
    private static final int MAX_DEPTH = 192;
    private static final int MAX_SUBSTITUTIONS = 4096;
    private static final int MAX_LIST = 1024;

    private static final Node VOID = new Node.Name("void");
    private static final Node NULLPTR_TYPE = new Node.Name("decltype(nullptr)");
    private static final Node STD = new Node.Name("std");
    private static final Node STD_ALLOCATOR = new Node.Name("std::allocator");
    private static final Node STD_BASIC_STRING = new Node.Name("std::basic_string");
    private static final Node STD_STRING = new Node.Name(
            "std::basic_string<char, std::char_traits<char>, std::allocator<char> >");
    private static final Node STD_ISTREAM = new Node.Name("std::basic_istream<char, std::char_traits<char> >");
    private static final Node STD_OSTREAM = new Node.Name("std::basic_ostream<char, std::char_traits<char> >");
    private static final Node STD_IOSTREAM = new Node.Name("std::basic_iostream<char, std::char_traits<char> >");

    private static final String[] BUILTINS = new String[26];

    static {
        String[][] table = {{"a", "signed char"}, {"b", "bool"}, {"c", "char"}, {"d", "double"},
            {"e", "long double"}, {"f", "float"}, {"g", "__float128"}, {"h", "unsigned char"}, {"i", "int"},
            {"j", "unsigned int"}, {"l", "long"}, {"m", "unsigned long"}, {"n", "__int128"},
            {"o", "unsigned __int128"}, {"s", "short"}, {"t", "unsigned short"}, {"v", "void"},
            {"w", "wchar_t"}, {"x", "long long"}, {"y", "unsigned long long"}, {"z", "..."}};
        for (String[] e : table) {
            BUILTINS[e[0].charAt(0) - 'a'] = e[1];
        }
    }

    /** Operator spelling and arity, from the ABI's operator table. */
    private record Op(String symbol, int arity) {
    }

    private static final Map<String, Op> OPERATORS = Map.ofEntries(
            Map.entry("aN", new Op("&=", 2)), Map.entry("aS", new Op("=", 2)), Map.entry("aa", new Op("&&", 2)),
            Map.entry("ad", new Op("&", 1)), Map.entry("an", new Op("&", 2)), Map.entry("at", new Op("alignof ", 1)),
            Map.entry("aw", new Op("co_await ", 1)), Map.entry("az", new Op("alignof ", 1)),
            Map.entry("cc", new Op("const_cast", 2)), Map.entry("cl", new Op("()", 2)), Map.entry("cm", new Op(",", 2)),
            Map.entry("co", new Op("~", 1)), Map.entry("dV", new Op("/=", 2)), Map.entry("da", new Op("delete[] ", 1)),
            Map.entry("dc", new Op("dynamic_cast", 2)), Map.entry("de", new Op("*", 1)),
            Map.entry("dl", new Op("delete ", 1)), Map.entry("ds", new Op(".*", 2)), Map.entry("dt", new Op(".", 2)),
            Map.entry("dv", new Op("/", 2)), Map.entry("eO", new Op("^=", 2)), Map.entry("eo", new Op("^", 2)),
            Map.entry("eq", new Op("==", 2)), Map.entry("ge", new Op(">=", 2)), Map.entry("gs", new Op("::", 1)),
            Map.entry("gt", new Op(">", 2)), Map.entry("ix", new Op("[]", 2)), Map.entry("lS", new Op("<<=", 2)),
            Map.entry("le", new Op("<=", 2)), Map.entry("li", new Op("operator\"\" ", 1)),
            Map.entry("ls", new Op("<<", 2)), Map.entry("lt", new Op("<", 2)), Map.entry("mI", new Op("-=", 2)),
            Map.entry("mL", new Op("*=", 2)), Map.entry("mi", new Op("-", 2)), Map.entry("ml", new Op("*", 2)),
            Map.entry("mm", new Op("--", 1)), Map.entry("na", new Op("new[]", 3)), Map.entry("ne", new Op("!=", 2)),
            Map.entry("ng", new Op("-", 1)), Map.entry("nt", new Op("!", 1)), Map.entry("nw", new Op("new", 3)),
            Map.entry("oR", new Op("|=", 2)), Map.entry("oo", new Op("||", 2)), Map.entry("or", new Op("|", 2)),
            Map.entry("pL", new Op("+=", 2)), Map.entry("pl", new Op("+", 2)), Map.entry("pm", new Op("->*", 2)),
            Map.entry("pp", new Op("++", 1)), Map.entry("ps", new Op("+", 1)), Map.entry("pt", new Op("->", 2)),
            Map.entry("qu", new Op("?", 3)), Map.entry("rM", new Op("%=", 2)), Map.entry("rS", new Op(">>=", 2)),
            Map.entry("rc", new Op("reinterpret_cast", 2)), Map.entry("rm", new Op("%", 2)),
            Map.entry("rs", new Op(">>", 2)), Map.entry("sZ", new Op("sizeof...", 1)),
            Map.entry("sc", new Op("static_cast", 2)), Map.entry("ss", new Op("<=>", 2)),
            Map.entry("st", new Op("sizeof ", 1)), Map.entry("sz", new Op("sizeof ", 1)),
            Map.entry("tr", new Op("throw", 0)), Map.entry("tw", new Op("throw ", 1)));

    /** A name carrying member-function qualifiers ({@code NK...E}); they print after the parameters. */
    private static final class FnQualName extends Node {
        final Node name;
        final int quals;
        final String refQual;

        FnQualName(Node name, int quals, String refQual) {
            this.name = name;
            this.quals = quals;
            this.refQual = refQual;
        }

        @Override
        void printLeft(Printer p) {
            p.print(name);
            appendQuals(p, quals);
            if (refQual != null) {
                p.append(refQual);
            }
        }
    }

    /** {@code function()::entity}. */
    private static final class LocalName extends Node {
        final Node function;
        final Node entity;

        LocalName(Node function, Node entity) {
            this.function = function;
            this.entity = entity;
        }

        @Override
        void printLeft(Printer p) {
            p.print(function);
            p.append("::");
            p.print(entity);
        }
    }

    private static final class Conversion extends Node {
        final Node type;

        Conversion(Node type) {
            this.type = type;
        }

        @Override
        void printLeft(Printer p) {
            p.append("operator ");
            p.print(type);
        }
    }

    /** Lambda closure or unnamed type: carries its own discriminator, so none follows in a local name. */
    private static final class Closure extends Node {
        final Node body;

        Closure(Node body) {
            this.body = body;
        }

        @Override
        void printLeft(Printer p) {
            p.print(body);
        }
    }

    /**
     * Substitution-table entry for a template parameter used as a type. Like GCC and c++filt, a later
     * {@code S<n>_} means "that parameter" and is resolved in the scope where it appears, which differs
     * from where it was first seen when a local name's function is itself a template.
     */
    private static final class ParamSub extends Node {
        final int index;
        /** What the parameter meant where it was first seen; c++filt uses this under a reference. */
        final Node original;

        ParamSub(int index, Node original) {
            this.index = index;
            this.original = original;
        }

        @Override
        void printLeft(Printer p) {
            throw DemangleFailure.INSTANCE;
        }
    }

    private final String s;
    private final boolean params;
    private int pos;
    private int depth;
    private final List<Node> subs = new ArrayList<>();
    private List<Node> templateParams;
    private List<Node.ForwardRef> forwardRefs;
    private boolean permitForwardRefs;
    private boolean inLambdaSignature;
    private String lastName;

    private ItaniumParser(String s, boolean params) {
        this.s = s;
        this.params = params;
    }

    /** Parses {@code symbol} (which starts with {@code _Z}); throws {@link DemangleFailure}. */
    static Node parse(String symbol, boolean includeParameters) {
        ItaniumParser p = new ItaniumParser(symbol, includeParameters);
        p.pos = 2;
        Node enc = p.encoding(true);
        if (includeParameters) {
            while (p.peek() == '.' && (isLower(p.peek(1)) || isDigit(p.peek(1)) || p.peek(1) == '_')) {
                enc = p.cloneSuffix(enc);
            }
            if (p.pos != symbol.length()) {
                throw DemangleFailure.INSTANCE;
            }
        }
        return enc;
    }

    // ---- input helpers

    private char peek() {
        return pos < s.length() ? s.charAt(pos) : '\0';
    }

    private char peek(int ahead) {
        int i = pos + ahead;
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private boolean consume(char c) {
        if (peek() == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!consume(c)) {
            throw DemangleFailure.INSTANCE;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isLower(char c) {
        return c >= 'a' && c <= 'z';
    }

    private static boolean isUpper(char c) {
        return c >= 'A' && c <= 'Z';
    }

    private static Node fail() {
        throw DemangleFailure.INSTANCE;
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw DemangleFailure.INSTANCE;
        }
    }

    private void addSub(Node n) {
        if (subs.size() >= MAX_SUBSTITUTIONS) {
            throw DemangleFailure.INSTANCE;
        }
        subs.add(n);
    }

    /** Decimal number with optional 'n' sign, as libiberty reads it: no digits means 0. */
    private long number() {
        boolean negative = consume('n');
        long v = 0;
        while (isDigit(peek())) {
            v = v * 10 + (s.charAt(pos++) - '0');
            if (v > Integer.MAX_VALUE) {
                throw DemangleFailure.INSTANCE;
            }
        }
        return negative ? -v : v;
    }

    private String digits() {
        int start = pos;
        consume('n');
        while (isDigit(peek())) {
            pos++;
        }
        return s.substring(start, pos);
    }

    /** {@code _} is 0, {@code <n>_} is n+1. */
    private int compactNumber() {
        if (consume('_')) {
            return 0;
        }
        if (!isDigit(peek())) {
            throw DemangleFailure.INSTANCE;
        }
        long n = number() + 1;
        expect('_');
        return (int) n;
    }

    // ---- encodings

    private Node encoding(boolean top) {
        enter();
        try {
            char c = peek();
            if (c == 'G' || c == 'T') {
                return specialName();
            }
            Node name = name(true);
            if (top && !params) {
                return stripFunctionQualifiers(name);
            }
            c = peek();
            if (c == '\0' || c == 'E') {
                return name;
            }
            Node ret = hasReturnType(name) ? type() : null;
            List<Node> ps = parameterList();
            if (forwardRefs != null) {
                resolveForwardRefs();
            }
            int quals = 0;
            String refQual = null;
            if (name instanceof FnQualName q) {
                quals = q.quals;
                refQual = q.refQual;
                name = q.name;
            } else if (name instanceof LocalName l && l.entity instanceof FnQualName q) {
                quals = q.quals;
                refQual = q.refQual;
                name = new LocalName(l.function, q.name);
            }
            if (!top && name instanceof LocalName) {
                // c++filt hides a nested local function's return type so it is not read as the outer one's.
                ret = null;
            }
            return new Node.Encoding(ret, name, ps, quals, refQual);
        } finally {
            depth--;
        }
    }

    private void resolveForwardRefs() {
        for (Node.ForwardRef f : forwardRefs) {
            if (f.target == null) {
                if (templateParams == null || f.index >= templateParams.size()) {
                    throw DemangleFailure.INSTANCE;
                }
                Node arg = templateParams.get(f.index);
                f.target = arg instanceof Node.Pack pack ? new Node.PackParam(pack) : arg;
            }
        }
        forwardRefs = null;
    }

    private static Node stripFunctionQualifiers(Node name) {
        if (name instanceof FnQualName q) {
            return q.name;
        }
        if (name instanceof LocalName l && l.entity instanceof FnQualName q) {
            return new LocalName(l.function, q.name);
        }
        return name;
    }

    private static boolean hasReturnType(Node name) {
        Node n = name;
        if (n instanceof FnQualName q) {
            n = q.name;
        }
        if (n instanceof LocalName l) {
            n = l.entity instanceof FnQualName q ? q.name : l.entity;
        }
        return n instanceof Node.Template t && !isCtorDtorOrConversion(t.name);
    }

    private static boolean isCtorDtorOrConversion(Node n) {
        Node cur = n;
        while (true) {
            if (cur instanceof Node.Qualified q) {
                cur = q.name;
            } else if (cur instanceof LocalName l) {
                cur = l.entity;
            } else {
                return cur instanceof Node.CtorDtor || cur instanceof Conversion;
            }
        }
    }

    private Node cloneSuffix(Node enc) {
        int start = pos;
        if (isLower(peek(1)) || isDigit(peek(1)) || peek(1) == '_') {
            pos += 2;
            while (isLower(peek()) || isDigit(peek()) || peek() == '_') {
                pos++;
            }
        }
        while (peek() == '.' && isDigit(peek(1))) {
            pos += 2;
            while (isDigit(peek())) {
                pos++;
            }
        }
        return new Node.Joined("", enc, " [clone ", new Node.Name(s.substring(start, pos)), "]");
    }

    private Node specialName() {
        if (consume('T')) {
            char c = peek();
            pos++;
            switch (c) {
                case 'V':
                    return new Node.Prefixed("vtable for ", type());
                case 'T':
                    return new Node.Prefixed("VTT for ", type());
                case 'I':
                    return new Node.Prefixed("typeinfo for ", type());
                case 'S':
                    return new Node.Prefixed("typeinfo name for ", type());
                case 'F':
                    return new Node.Prefixed("typeinfo fn for ", type());
                case 'h':
                    callOffset('h');
                    return new Node.Prefixed("non-virtual thunk to ", encoding(false));
                case 'v':
                    callOffset('v');
                    return new Node.Prefixed("virtual thunk to ", encoding(false));
                case 'c':
                    callOffset(peekAndSkip());
                    callOffset(peekAndSkip());
                    return new Node.Prefixed("covariant return thunk to ", encoding(false));
                case 'C': {
                    Node derived = type();
                    if (number() < 0) {
                        fail();
                    }
                    expect('_');
                    Node base = type();
                    return new Node.Joined("construction vtable for ", base, "-in-", derived, "");
                }
                case 'H':
                    return new Node.Prefixed("TLS init function for ", name(false));
                case 'W':
                    return new Node.Prefixed("TLS wrapper function for ", name(false));
                case 'A':
                    return new Node.Prefixed("template parameter object for ", templateArg());
                default:
                    return fail();
            }
        }
        expect('G');
        char c = peek();
        pos++;
        switch (c) {
            case 'V':
                return new Node.Prefixed("guard variable for ", name(false));
            case 'R': {
                Node n = name(false);
                String num = String.valueOf(number());
                return new Node.Joined("reference temporary #", new Node.Name(num), " for ", n, "");
            }
            case 'A':
                return new Node.Prefixed("hidden alias for ", encoding(false));
            case 'T':
                if (consume('n')) {
                    return new Node.Prefixed("non-transaction clone for ", encoding(false));
                }
                expect('t');
                return new Node.Prefixed("transaction clone for ", encoding(false));
            default:
                return fail();
        }
    }

    private char peekAndSkip() {
        char c = peek();
        pos++;
        return c;
    }

    private void callOffset(char kind) {
        if (kind == 'h') {
            number();
            expect('_');
        } else if (kind == 'v') {
            number();
            expect('_');
            number();
            expect('_');
        } else {
            fail();
        }
    }

    // ---- names

    private Node name(boolean tag) {
        enter();
        try {
            switch (peek()) {
                case 'N':
                    return nestedName(tag);
                case 'Z':
                    return localName(tag);
                case 'U':
                    return unqualifiedName(null, tag);
                case 'S': {
                    Node dc;
                    boolean fromSubstitution;
                    if (peek(1) != 't') {
                        dc = substitution();
                        fromSubstitution = true;
                    } else {
                        pos += 2;
                        dc = new Node.Qualified(STD, unqualifiedName(null, tag));
                        fromSubstitution = false;
                    }
                    if (peek() == 'I') {
                        if (!fromSubstitution) {
                            addSub(dc);
                        }
                        dc = new Node.Template(dc, templateArgs(tag));
                    }
                    return dc;
                }
                default: {
                    Node dc = unqualifiedName(null, tag);
                    if (peek() == 'I') {
                        addSub(dc);
                        dc = new Node.Template(dc, templateArgs(tag));
                    }
                    return dc;
                }
            }
        } finally {
            depth--;
        }
    }

    private Node nestedName(boolean tag) {
        expect('N');
        int quals = cvQualifiers();
        String refQual = null;
        if (consume('R')) {
            refQual = " &";
        } else if (consume('O')) {
            refQual = " &&";
        }
        Node n = prefix(tag);
        expect('E');
        return quals != 0 || refQual != null ? new FnQualName(n, quals, refQual) : n;
    }

    private int cvQualifiers() {
        int q = 0;
        if (consume('r')) {
            q |= Node.RESTRICT;
        }
        if (consume('V')) {
            q |= Node.VOLATILE;
        }
        if (consume('K')) {
            q |= Node.CONST;
        }
        return q;
    }

    private Node prefix(boolean tag) {
        Node ret = null;
        while (true) {
            char c = peek();
            if (c == '\0') {
                return fail();
            }
            if (c == 'D' && (peek(1) == 'T' || peek(1) == 't')) {
                if (ret != null) {
                    fail();
                }
                ret = type();
            } else if (c == 'I') {
                if (ret == null) {
                    fail();
                }
                ret = new Node.Template(ret, templateArgs(tag));
            } else if (c == 'T') {
                if (ret != null) {
                    fail();
                }
                ret = templateParam();
            } else if (c == 'M') {
                pos++;
                continue;
            } else if (c == 'S') {
                if (ret != null) {
                    fail();
                }
                ret = substitution();
                continue;
            } else {
                ret = unqualifiedName(ret, tag);
            }
            if (peek() == 'E') {
                return ret;
            }
            addSub(ret);
        }
    }

    private Node unqualifiedName(Node scope, boolean tag) {
        char c = peek();
        Node ret;
        if (isDigit(c)) {
            ret = sourceName();
        } else if (isLower(c)) {
            if (c == 'o' && peek(1) == 'n') {
                pos += 2;
            }
            ret = operatorName(tag);
        } else if (c == 'C' || (c == 'D' && peek(1) != 'C')) {
            ret = ctorDtorName();
        } else if (c == 'D') {
            pos += 2;
            List<Node> names = new ArrayList<>();
            while (!consume('E')) {
                names.add(sourceName());
                checkList(names);
            }
            ret = new Node.Bracketed("[", names, "]", false);
        } else if (c == 'L') {
            pos++;
            ret = sourceName();
            discriminator();
        } else if (c == 'U') {
            if (peek(1) == 'l') {
                ret = lambda();
            } else if (peek(1) == 't') {
                pos += 2;
                int n = compactNumber();
                ret = new Closure(new Node.Name("{unnamed type#" + (n + 1) + "}"));
            } else {
                return fail();
            }
        } else {
            return fail();
        }
        while (peek() == 'B') {
            pos++;
            String tagName = identifier();
            ret = new Node.Joined("", ret, "[abi:", new Node.Name(tagName), "]");
        }
        return scope == null ? ret : new Node.Qualified(scope, ret);
    }

    private Node lambda() {
        pos += 2;
        boolean saved = inLambdaSignature;
        inLambdaSignature = true;
        List<Node> ps = parameterList();
        inLambdaSignature = saved;
        expect('E');
        int n = compactNumber();
        return new Closure(new Node.Bracketed("{lambda(", ps, ")#" + (n + 1) + "}", false));
    }

    private Node operatorName(boolean tag) {
        if (peek() == 'c' && peek(1) == 'v') {
            pos += 2;
            boolean saved = permitForwardRefs;
            permitForwardRefs = tag;
            Node t = type();
            permitForwardRefs = saved;
            return new Conversion(t);
        }
        if (peek() == 'l' && peek(1) == 'i') {
            pos += 2;
            return new Node.Prefixed("operator\"\" ", sourceName());
        }
        if (peek() == 'v' && isDigit(peek(1))) {
            pos += 2;
            return new Node.Prefixed("operator ", sourceName());
        }
        Op op = pos + 2 <= s.length() ? OPERATORS.get(s.substring(pos, pos + 2)) : null;
        if (op == null) {
            return fail();
        }
        pos += 2;
        String sym = op.symbol().strip();
        return new Node.Name(isLower(sym.charAt(0)) ? "operator " + sym : "operator" + sym);
    }

    private Node ctorDtorName() {
        if (lastName == null) {
            return fail();
        }
        String name = lastName;
        if (consume('C')) {
            boolean inheriting = consume('I');
            char k = peek();
            if (k < '1' || k > '5') {
                return fail();
            }
            pos++;
            if (inheriting) {
                // c++filt names an inheriting constructor after the base it inherits from.
                type();
                return new Node.CtorDtor(lastName, false);
            }
            return new Node.CtorDtor(name, false);
        }
        expect('D');
        char k = peek();
        if (k != '0' && k != '1' && k != '2' && k != '4' && k != '5') {
            return fail();
        }
        pos++;
        return new Node.CtorDtor(name, true);
    }

    private String identifier() {
        long len = number();
        if (len <= 0 || len > s.length() - pos) {
            throw DemangleFailure.INSTANCE;
        }
        String id = s.substring(pos, pos + (int) len);
        pos += (int) len;
        return id;
    }

    private Node sourceName() {
        String id = identifier();
        if (id.length() >= 10 && id.startsWith("_GLOBAL_") && ".$_".indexOf(id.charAt(8)) >= 0
                && id.charAt(9) == 'N') {
            id = "(anonymous namespace)";
        }
        lastName = id;
        return new Node.Name(id);
    }

    private void discriminator() {
        if (!consume('_')) {
            return;
        }
        boolean two = consume('_');
        if (!isDigit(peek())) {
            if (two) {
                fail();
            }
            return;
        }
        long d = number();
        if (two && d >= 10) {
            expect('_');
        }
    }

    private Node localName(boolean tag) {
        expect('Z');
        Node function = encoding(false);
        expect('E');
        Node entity;
        if (consume('s')) {
            discriminator();
            entity = new Node.Name("string literal");
        } else {
            int defaultArg = -1;
            if (consume('d')) {
                defaultArg = compactNumber();
            }
            entity = name(tag);
            if (!(entity instanceof Closure)) {
                discriminator();
            }
            if (defaultArg >= 0) {
                entity = new Node.Prefixed("{default arg#" + (defaultArg + 1) + "}::", entity);
            }
        }
        if (function instanceof Node.Encoding e && e.ret != null) {
            function = new Node.Encoding(null, e.name, e.params, e.quals, e.refQual);
        }
        return new LocalName(function, entity);
    }

    private Node substitution() {
        expect('S');
        char c = peek();
        if (c == '_' || isDigit(c) || isUpper(c)) {
            long id = 0;
            if (c != '_') {
                while (peek() != '_') {
                    char d = peek();
                    int v;
                    if (isDigit(d)) {
                        v = d - '0';
                    } else if (isUpper(d)) {
                        v = d - 'A' + 10;
                    } else {
                        return fail();
                    }
                    id = id * 36 + v;
                    if (id > MAX_SUBSTITUTIONS) {
                        return fail();
                    }
                    pos++;
                }
                id++;
            }
            pos++;
            if (id >= subs.size()) {
                return fail();
            }
            Node sub = subs.get((int) id);
            if (sub instanceof ParamSub ps) {
                lastParamSub = ps;
                lastParamSubEnd = pos;
                lastParamSubDepth = depth;
                return resolveParam(ps.index);
            }
            return sub;
        }
        pos++;
        switch (c) {
            case 't':
                return STD;
            case 'a':
                lastName = "allocator";
                return STD_ALLOCATOR;
            case 'b':
                lastName = "basic_string";
                return STD_BASIC_STRING;
            case 's':
                lastName = "basic_string";
                return STD_STRING;
            case 'i':
                lastName = "basic_istream";
                return STD_ISTREAM;
            case 'o':
                lastName = "basic_ostream";
                return STD_OSTREAM;
            case 'd':
                lastName = "basic_iostream";
                return STD_IOSTREAM;
            default:
                return fail();
        }
    }

    private static boolean isStandardSubstitution(Node n) {
        return n == STD || n == STD_ALLOCATOR || n == STD_BASIC_STRING || n == STD_STRING || n == STD_ISTREAM
                || n == STD_OSTREAM || n == STD_IOSTREAM;
    }

    private void checkList(List<?> list) {
        if (list.size() > MAX_LIST) {
            throw DemangleFailure.INSTANCE;
        }
    }

    // ---- templates

    private Node.TemplateArgs templateArgs(boolean tag) {
        String heldName = lastName;
        if (peek() != 'I' && peek() != 'J') {
            fail();
        }
        pos++;
        List<Node> args = new ArrayList<>();
        while (!consume('E')) {
            if (peek() == '\0') {
                fail();
            }
            args.add(templateArg());
            checkList(args);
        }
        if (tag) {
            templateParams = args;
        }
        lastName = heldName;
        return new Node.TemplateArgs(args);
    }

    private Node templateArg() {
        enter();
        try {
            switch (peek()) {
                case 'X': {
                    pos++;
                    Node e = expression();
                    expect('E');
                    return e;
                }
                case 'L':
                    return exprPrimary();
                case 'I':
                case 'J':
                    return new Node.Pack(templateArgs(false).args);
                default:
                    return type();
            }
        } finally {
            depth--;
        }
    }

    private int lastParamIndex;
    /** The last template-parameter substitution read and where it ended, see {@link #referenceTo}. */
    private ParamSub lastParamSub;
    private int lastParamSubEnd = -1;
    private int lastParamSubDepth;

    private Node templateParam() {
        expect('T');
        int index = consume('_') ? 0 : compactNumberAfterDigits();
        lastParamIndex = index;
        if (inLambdaSignature) {
            return new Node.Name("auto:" + (index + 1));
        }
        return resolveParam(index);
    }

    private Node resolveParam(int index) {
        if (inLambdaSignature) {
            return new Node.Name("auto:" + (index + 1));
        }
        if (permitForwardRefs) {
            Node.ForwardRef f = new Node.ForwardRef(index);
            if (forwardRefs == null) {
                forwardRefs = new ArrayList<>();
            }
            forwardRefs.add(f);
            checkList(forwardRefs);
            return f;
        }
        if (templateParams == null || index >= templateParams.size()) {
            return fail();
        }
        Node arg = templateParams.get(index);
        return arg instanceof Node.Pack pack ? new Node.PackParam(pack) : arg;
    }

    private int compactNumberAfterDigits() {
        if (!isDigit(peek())) {
            throw DemangleFailure.INSTANCE;
        }
        long n = number() + 1;
        expect('_');
        return (int) n;
    }

    // ---- types

    private boolean atTypeQualifier() {
        char c = peek();
        if (c == 'r' || c == 'V' || c == 'K') {
            return true;
        }
        char n = peek(1);
        return c == 'D' && (n == 'x' || n == 'o' || n == 'O' || n == 'w');
    }

    private Node type() {
        enter();
        try {
            if (atTypeQualifier()) {
                return qualifiedType();
            }
            char c = peek();
            Node ret;
            switch (c) {
                case 'F':
                    ret = functionType();
                    break;
                case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'N', 'Z':
                    ret = name(false);
                    break;
                case 'A':
                    ret = arrayType();
                    break;
                case 'M': {
                    pos++;
                    Node cls = type();
                    Node member = type();
                    ret = new Node.MemberPointer(cls, member);
                    break;
                }
                case 'T': {
                    ret = templateParam();
                    Node entry = new ParamSub(lastParamIndex, ret);
                    if (peek() != 'I') {
                        addSub(entry);
                        return ret;
                    }
                    {
                        if (!permitForwardRefs) {
                            addSub(entry);
                            ret = new Node.Template(ret, templateArgs(false));
                        } else {
                            // In a conversion operator's type the args may instead belong to the operator.
                            int savedPos = pos;
                            int savedSubs = subs.size();
                            Node.TemplateArgs args = templateArgs(false);
                            if (peek() == 'I') {
                                addSub(entry);
                                ret = new Node.Template(ret, args);
                            } else {
                                pos = savedPos;
                                while (subs.size() > savedSubs) {
                                    subs.removeLast();
                                }
                                addSub(entry);
                                return ret;
                            }
                        }
                    }
                    break;
                }
                case 'P':
                    pos++;
                    ret = new Node.Pointer(type(), "*");
                    break;
                case 'R':
                    pos++;
                    ret = referenceTo("&");
                    break;
                case 'O':
                    pos++;
                    ret = referenceTo("&&");
                    break;
                case 'C':
                    pos++;
                    ret = new Node.Suffixed(type(), new Node.Name("_Complex"));
                    break;
                case 'G':
                    pos++;
                    ret = new Node.Suffixed(type(), new Node.Name("_Imaginary"));
                    break;
                case 'U': {
                    pos++;
                    Node vendor = sourceName();
                    if (peek() == 'I') {
                        vendor = new Node.Template(vendor, templateArgs(false));
                    }
                    ret = new Node.Suffixed(type(), vendor);
                    break;
                }
                case 'u':
                    pos++;
                    ret = sourceName();
                    break;
                case 'S': {
                    char n = peek(1);
                    if (isDigit(n) || n == '_' || isUpper(n)) {
                        ret = substitution();
                        if (peek() != 'I') {
                            return ret;
                        }
                        ret = new Node.Template(ret, templateArgs(false));
                    } else {
                        ret = name(false);
                        if (isStandardSubstitution(ret)) {
                            return ret;
                        }
                    }
                    break;
                }
                case 'D':
                    ret = dType();
                    if (ret == null) {
                        return builtinD();
                    }
                    break;
                default:
                    if (isLower(c) && BUILTINS[c - 'a'] != null) {
                        pos++;
                        return c == 'v' ? VOID : new Node.Name(BUILTINS[c - 'a']);
                    }
                    return fail();
            }
            addSub(ret);
            return ret;
        } finally {
            depth--;
        }
    }

    /**
     * A reference whose referent is a template parameter reached through a substitution keeps the
     * meaning the parameter had where it was first seen, not the one in the current template: c++filt
     * (libiberty) saves the template scope of a parameter under a reference, and GCC relies on it.
     */
    private Node referenceTo(String symbol) {
        Node inner = type();
        if (lastParamSub != null && lastParamSubEnd == pos && lastParamSubDepth == depth + 1
                && !(inner instanceof Node.Template)) {
            ParamSub ps = lastParamSub;
            if (ps.original != null && !inLambdaSignature) {
                inner = ps.original;
            }
        }
        lastParamSub = null;
        return reference(inner, symbol);
    }

    /** Reference collapsing: {@code T&} with T = {@code U&&} is {@code U&}, as c++filt prints it. */
    private static Node reference(Node inner, String symbol) {
        if (inner instanceof Node.Pointer p && (p.symbol.equals("&") || p.symbol.equals("&&"))) {
            return symbol.equals("&") || p.symbol.equals("&") ? new Node.Pointer(p.pointee, "&") : inner;
        }
        return new Node.Pointer(inner, symbol);
    }

    private Node qualifiedType() {
        int q = cvQualifiers();
        Node exception = null;
        while (peek() == 'D') {
            char n = peek(1);
            if (n == 'x') {
                pos += 2;
                exception = new Node.Name(" transaction_safe");
            } else if (n == 'o') {
                pos += 2;
                exception = new Node.Name(" noexcept");
            } else if (n == 'O') {
                pos += 2;
                Node e = expression();
                expect('E');
                exception = new Node.Joined(" noexcept(", e, ")", null, "");
            } else if (n == 'w') {
                pos += 2;
                List<Node> types = new ArrayList<>();
                while (!consume('E')) {
                    types.add(type());
                    checkList(types);
                }
                exception = new Node.Bracketed(" throw(", types, ")", false);
            } else {
                break;
            }
        }
        q |= cvQualifiers();
        Node ret;
        if (peek() == 'F') {
            Node.FunctionType f = functionType();
            ret = f.withQuals(q, exception);
        } else {
            Node inner = type();
            if (inner instanceof Node.FunctionType f) {
                ret = f.withQuals(q, exception);
            } else if (q == 0) {
                ret = inner;
            } else if (inner instanceof Node.Qual iq) {
                ret = new Node.Qual(iq.inner, iq.quals | q);
            } else {
                ret = new Node.Qual(inner, q);
            }
        }
        addSub(ret);
        return ret;
    }

    private Node.FunctionType functionType() {
        expect('F');
        consume('Y');
        Node ret = type();
        List<Node> ps = parameterList();
        String refQual = null;
        if (peek() == 'R' && peek(1) == 'E') {
            pos++;
            refQual = " &";
        } else if (peek() == 'O' && peek(1) == 'E') {
            pos++;
            refQual = " &&";
        }
        expect('E');
        return new Node.FunctionType(ret, ps, 0, refQual, null);
    }

    private List<Node> parameterList() {
        List<Node> ps = new ArrayList<>();
        while (true) {
            char c = peek();
            if (c == '\0' || c == 'E' || c == '.' || c == 'Q') {
                break;
            }
            if ((c == 'R' || c == 'O') && peek(1) == 'E') {
                break;
            }
            ps.add(type());
            checkList(ps);
        }
        if (ps.isEmpty()) {
            fail();
        }
        if (ps.size() == 1 && ps.get(0) == VOID) {
            ps.clear();
        }
        return ps;
    }

    private Node arrayType() {
        expect('A');
        Node dim = null;
        if (isDigit(peek())) {
            int start = pos;
            while (isDigit(peek())) {
                pos++;
            }
            dim = new Node.Name(s.substring(start, pos));
        } else if (peek() != '_') {
            dim = expression();
        }
        expect('_');
        return new Node.ArrayType(type(), dim);
    }

    /** {@code D} types that are substitution candidates; null for the builtin ones. */
    private Node dType() {
        char n = peek(1);
        switch (n) {
            case 'T', 't': {
                pos += 2;
                Node e = expression();
                expect('E');
                return new Node.Joined("decltype (", e, ")", null, "");
            }
            case 'p':
                pos += 2;
                return new Node.PackExpansion(type());
            case 'v': {
                pos += 2;
                Node dim;
                if (consume('_')) {
                    dim = expression();
                } else {
                    dim = new Node.Name(String.valueOf(number()));
                }
                expect('_');
                Node elem = type();
                return new Node.Suffixed(elem, new Node.Joined("__vector(", dim, ")", null, ""));
            }
            default:
                return null;
        }
    }

    private Node builtinD() {
        pos++;
        char c = peek();
        pos++;
        switch (c) {
            case 'a':
                return new Node.Name("auto");
            case 'c':
                return new Node.Name("decltype(auto)");
            case 'f':
                return new Node.Name("decimal32");
            case 'd':
                return new Node.Name("decimal64");
            case 'e':
                return new Node.Name("decimal128");
            case 'h':
                return new Node.Name("half");
            case 'u':
                return new Node.Name("char8_t");
            case 's':
                return new Node.Name("char16_t");
            case 'i':
                return new Node.Name("char32_t");
            case 'n':
                return NULLPTR_TYPE;
            case 'F': {
                if (peek() == '1' && peek(1) == '6' && peek(2) == 'b') {
                    pos += 3;
                    return new Node.Name("std::bfloat16_t");
                }
                long bits = number();
                if (consume('x')) {
                    return new Node.Name("_Float" + bits + "x");
                }
                expect('_');
                return new Node.Name("_Float" + bits);
            }
            default:
                return fail();
        }
    }

    // ---- expressions

    private Node expression() {
        enter();
        try {
            char c = peek();
            char n = peek(1);
            if (c == 'L') {
                return exprPrimary();
            }
            if (c == 'T') {
                return templateParam();
            }
            if (c == 's' && n == 'r') {
                pos += 2;
                return unresolvedName();
            }
            if (c == 's' && n == 'p') {
                pos += 2;
                return new Node.PackExpansion(expression());
            }
            if (c == 'f' && n == 'p') {
                pos += 2;
                if (consume('T')) {
                    return new Node.Name("this");
                }
                cvQualifiers();
                int index = compactNumber();
                return new Node.Name("{parm#" + (index + 1) + "}");
            }
            if (isDigit(c) || (c == 'o' && n == 'n')) {
                if (c == 'o') {
                    pos += 2;
                }
                Node name = unqualifiedName(null, false);
                if (peek() == 'I') {
                    return new Node.Template(name, templateArgs(false));
                }
                return name;
            }
            if ((c == 'i' || c == 't') && n == 'l') {
                pos += 2;
                Node type = c == 't' ? type() : null;
                List<Node> items = exprList('E');
                return new Node() {
                    @Override
                    void printLeft(Printer p) {
                        if (type != null) {
                            p.print(type);
                        }
                        p.append('{');
                        printList(p, items);
                        p.append('}');
                    }

                    @Override
                    boolean isSimpleExpr() {
                        return true;
                    }
                };
            }
            return operatorExpression();
        } finally {
            depth--;
        }
    }

    private List<Node> exprList(char terminator) {
        List<Node> items = new ArrayList<>();
        while (!consume(terminator)) {
            if (peek() == '\0') {
                fail();
            }
            items.add(expression());
            checkList(items);
        }
        return items;
    }

    private Node unresolvedName() {
        Node type;
        if (consume('N')) {
            type = type();
            while (!consume('E')) {
                // Every qualifier level is a substitution candidate, with and without its arguments.
                type = new Node.Qualified(type, unqualifiedName(null, false));
                addSub(type);
                if (peek() == 'I') {
                    type = new Node.Template(type, templateArgs(false));
                    addSub(type);
                }
            }
        } else if (isDigit(peek())) {
            // Two encodings meet here: "sr <level>+ E <base>" (std::is_signed<T>::value) and GCC's older
            // "sr <class> <base>" without the E. An E is the levels' terminator only if a name follows.
            type = null;
            Node firstName = null;
            int firstSubs = -1;
            int levels = 0;
            while (true) {
                Node name = sourceName();
                Node level = name;
                if (peek() == 'I') {
                    level = new Node.Template(name, templateArgs(false));
                }
                if (levels++ == 0) {
                    firstName = name;
                    firstSubs = subs.size();
                }
                if (peek() == 'E' && (isDigit(peek(1)) || (peek(1) == 'o' && peek(2) == 'n'))) {
                    pos++;
                    type = type == null ? level : new Node.Qualified(type, level);
                    break;
                }
                if (!isDigit(peek())) {
                    if (type == null) {
                        return level;
                    }
                    if (levels == 2) {
                        // The older form parsed its class as a type, which made it a substitution candidate.
                        if (subs.size() + 2 > MAX_SUBSTITUTIONS) {
                            fail();
                        }
                        if (type instanceof Node.Template) {
                            subs.add(firstSubs, firstName);
                            subs.add(firstSubs + 1, type);
                        } else {
                            subs.add(firstSubs, type);
                        }
                    }
                    return new Node.Qualified(type, level);
                }
                type = type == null ? level : new Node.Qualified(type, level);
            }
        } else {
            type = type();
            if (peek() == 'I') {
                type = new Node.Template(type, templateArgs(false));
            }
        }
        Node name = new Node.Qualified(type, unqualifiedName(null, false));
        if (peek() == 'I') {
            name = new Node.Template(name, templateArgs(false));
        }
        return name;
    }

    private Node operatorExpression() {
        if (peek() == 'c' && peek(1) == 'v') {
            pos += 2;
            Node t = type();
            Node operand;
            if (consume('_')) {
                operand = new Node.Bracketed("", exprList('E'), "", false);
            } else {
                operand = expression();
            }
            return new Node() {
                @Override
                void printLeft(Printer p) {
                    p.append('(');
                    p.print(t);
                    p.append(')');
                    printSubexpr(p, operand);
                }
            };
        }
        String code = pos + 2 <= s.length() ? s.substring(pos, pos + 2) : "";
        Op op = OPERATORS.get(code);
        if (op == null) {
            return fail();
        }
        pos += 2;
        switch (code) {
            case "st":
                return new Node.PrefixExpr("sizeof ", type(), true);
            case "sZ": {
                Node operand = expression();
                int size = operand instanceof Node.PackParam pk ? pk.pack.items.size() : 0;
                return new Node.Name(String.valueOf(size));
            }
            case "pp", "mm": {
                boolean prefixForm = consume('_');
                Node operand = expression();
                return prefixForm ? new Node.PrefixExpr(op.symbol(), operand, false)
                        : new Node.PostfixExpr(operand, op.symbol());
            }
            case "gs": {
                Node operand = expression();
                return new Node.Joined("::", operand, "", null, "");
            }
            case "ad": {
                Node operand = expression();
                if (operand instanceof Node.Encoding e && e.name instanceof Node.Qualified && e.quals == 0
                        && e.refQual == null) {
                    operand = e.name;
                }
                return new Node.PrefixExpr("&", operand, false);
            }
            case "dc", "sc", "cc", "rc": {
                Node t = type();
                Node operand = expression();
                return new Node.NamedCast(op.symbol(), t, operand);
            }
            case "cl": {
                Node callee = expression();
                return new Node.CallExpr(callee, exprList('E'));
            }
            case "dt", "pt": {
                Node left = expression();
                Node right = peek() == 'L' ? exprPrimary() : unqualifiedName(null, false);
                if (peek() == 'I') {
                    right = new Node.Template(right, templateArgs(false));
                }
                return new Node.BinaryExpr(left, op.symbol(), right);
            }
            case "qu": {
                Node a = expression();
                Node b = expression();
                Node c = expression();
                return new Node.ConditionalExpr(a, b, c);
            }
            case "nw", "na": {
                List<Node> placement = exprList('_');
                Node t = type();
                Node init = null;
                if (consume('E')) {
                    init = null;
                } else if (peek() == 'p' && peek(1) == 'i') {
                    pos += 2;
                    init = new Node.Bracketed("", exprList('E'), "", false);
                } else if (peek() == 'i' && peek(1) == 'l') {
                    init = expression();
                } else {
                    return fail();
                }
                return newExpression(op.symbol(), placement, t, init);
            }
            default:
                break;
        }
        switch (op.arity()) {
            case 0:
                return new Node.Name(op.symbol());
            case 1:
                return new Node.PrefixExpr(op.symbol(), expression(), false);
            case 2: {
                Node left = expression();
                Node right = expression();
                return new Node.BinaryExpr(left, op.symbol(), right);
            }
            default:
                return fail();
        }
    }

    private static Node newExpression(String symbol, List<Node> placement, Node type, Node init) {
        return new Node() {
            @Override
            void printLeft(Printer p) {
                p.append(symbol);
                p.append(' ');
                if (!placement.isEmpty()) {
                    p.append('(');
                    printList(p, placement);
                    p.append(") ");
                }
                p.print(type);
                if (init != null) {
                    printSubexpr(p, init);
                }
            }
        };
    }

    private Node exprPrimary() {
        expect('L');
        Node ret;
        if (peek() == '_' || peek() == 'Z') {
            consume('_');
            expect('Z');
            ret = encoding(false);
        } else {
            Node t = type();
            if (t == NULLPTR_TYPE && consume('E')) {
                return t;
            }
            boolean negative = consume('n');
            int start = pos;
            while (peek() != 'E') {
                if (peek() == '\0') {
                    return fail();
                }
                pos++;
            }
            ret = new Node.Literal(t, s.substring(start, pos), negative);
        }
        expect('E');
        return ret;
    }
}
