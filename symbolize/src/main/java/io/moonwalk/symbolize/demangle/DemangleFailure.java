package io.moonwalk.symbolize.demangle;

/**
 * Control flow for "this is not a name we can demangle": thrown on malformed input or a blown budget
 * and caught at the public entry point, which then returns the symbol unchanged. Preallocated and
 * stackless because hostile input hits it often.
 */
final class DemangleFailure extends RuntimeException {
    static final DemangleFailure INSTANCE = new DemangleFailure();

    private DemangleFailure() {
        super("symbol cannot be demangled", null, false, false);
    }
}
