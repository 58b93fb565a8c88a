package io.moonwalk.unwinder.cfi;

/**
 * A parsed Common Information Entry. The initial instructions stay in the section: {@code [instructionsStart,
 * instructionsEnd)} are section offsets.
 *
 * @param offset section offset of the entry's length field (what readelf prints as the CIE's address)
 * @param fdeEncoding DW_EH_PE encoding of FDE addresses ({@code 'R'} augmentation; absptr otherwise)
 * @param signalFrame {@code 'S'} augmentation: FDEs of this CIE describe a signal trampoline
 * @param hasAugmentationData {@code 'z'} augmentation: every FDE carries an augmentation length to skip
 */
public record Cie(int offset, int version, String augmentation, long codeAlignment, long dataAlignment,
        int returnAddressColumn, int fdeEncoding, boolean signalFrame, boolean hasAugmentationData, int addressSize,
        int instructionsStart, int instructionsEnd) {
}
