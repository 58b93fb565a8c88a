package io.moonwalk.symbolize.demangle;

/** Rust v0 mangling ({@code _R...}): not implemented yet, so such symbols are returned unchanged. */
final class RustV0 {
    private RustV0() {
    }

    static String demangle(String name, boolean includeParameters) {
        return null;
    }
}
