package io.moonwalk.symbolize.demangle;

/**
 * Turns linker symbols into source-level names for flame graphs: Itanium C++ ABI names
 * ({@code _ZN13CompileBroker20compiler_thread_loopEv} becomes
 * {@code CompileBroker::compiler_thread_loop()}) and Rust legacy names (hash dropped).
 *
 * <p>Output matches GNU c++filt. Anything that is not a mangled name, or cannot be demangled, comes back
 * unchanged. Never throws; hostile input is bounded in time, recursion depth and output size
 * ({@value Printer#MAX_OUTPUT} characters). Thread-safe: no shared mutable state.
 */
public final class Demangler {
    /** Longer symbols are returned unchanged: no real one comes close, and parsing is linear in size. */
    static final int MAX_INPUT = 32 * 1024;

    private Demangler() {
    }

    /** Full form: {@code ns::Class::method(int, char const*) const}. */
    public static String demangle(String symbol) {
        return demangle(symbol, true);
    }

    /**
     * @param includeParameters false drops the function's parameter list, return type and
     *     member-function qualifiers ({@code ns::Class::method}), like {@code c++filt -p}
     */
    public static String demangle(String symbol, boolean includeParameters) {
        if (symbol == null || symbol.length() < 3 || symbol.length() > MAX_INPUT) {
            return symbol;
        }
        // ELF symbol versions (nm -D prints "name@@GLIBCXX_3.4") are kept but not part of the name.
        int at = symbol.indexOf('@');
        String name = at > 0 ? symbol.substring(0, at) : symbol;
        String demangled = demangleName(name, includeParameters);
        if (demangled == null) {
            return symbol;
        }
        return at > 0 ? demangled + symbol.substring(at) : demangled;
    }

    private static String demangleName(String name, boolean includeParameters) {
        try {
            if (name.startsWith("_Z")) {
                String rust = RustLegacy.demangle(name);
                if (rust != null) {
                    return rust;
                }
                Node root = ItaniumParser.parse(name, includeParameters);
                Printer p = new Printer();
                p.print(root);
                return p.toString();
            }
            if (name.startsWith("_R")) {
                return RustV0.demangle(name, includeParameters);
            }
            return null;
        } catch (DemangleFailure | IndexOutOfBoundsException | IllegalArgumentException
                 | StackOverflowError | ClassCastException e) {
            // Only DemangleFailure is expected; the others would be bugs, and a bug on hostile input
            // must still not take down symbolization.
            return null;
        }
    }
}
