package io.moonwalk.agent.session;

import io.moonwalk.symbolize.symbols.NativeSymbolizer;

/** The native symbolizer's counters at one moment. */
public record SymbolizerStats(long loadFailures, long cacheHits, long cacheMisses, long cacheEntries,
                              long maxCacheEntries) {
    public static final SymbolizerStats NONE = new SymbolizerStats(0, 0, 0, 0, 0);

    static SymbolizerStats of(NativeSymbolizer s) {
        return new SymbolizerStats(s.loadFailures(), s.cacheHits(), s.cacheMisses(), s.cacheEntries(),
                s.maxCacheEntries());
    }
}
