package io.moonwalk.symbolize.demangle;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Tag;

/**
 * Coverage-guided fuzzing of the Itanium and Rust demanglers (seeds: mangled names from the C++
 * fixture). Symbol names come from hostile files: any input must give a string (the input itself
 * when it does not demangle) without an exception, and in bounded time (recursion and output caps).
 */
@Tag("pure")
class DemanglerFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void demangle(String symbol) {
        String full = Demangler.demangle(symbol, true);
        String shortForm = Demangler.demangle(symbol, false);
        if (symbol != null && (full == null || shortForm == null)) {
            throw new AssertionError("null result for " + symbol);
        }
    }
}
