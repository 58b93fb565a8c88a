package io.moonwalk.unwinder.cfi;

/**
 * A parsed Frame Description Entry covering file virtual addresses {@code [pcBegin, pcEnd)}; its CFA program is
 * at section offsets {@code [instructionsStart, instructionsEnd)}.
 *
 * @param offset section offset of the entry's length field (what readelf prints first)
 */
public record Fde(int offset, Cie cie, long pcBegin, long pcEnd, int instructionsStart, int instructionsEnd) {
}
