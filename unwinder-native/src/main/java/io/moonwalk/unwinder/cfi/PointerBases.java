package io.moonwalk.unwinder.cfi;

/**
 * Virtual addresses that DW_EH_PE_textrel / datarel pointers are relative to. x86_64 toolchains emit neither in
 * .eh_frame FDEs, so the usual value is {@link #NONE}; a pointer that needs a missing base is an error, not a guess.
 *
 * @param textVaddr start of .text, or -1 if unknown
 * @param dataVaddr the data base (for .eh_frame_hdr: the header's own address), or -1 if unknown
 */
public record PointerBases(long textVaddr, long dataVaddr) {
    public static final PointerBases NONE = new PointerBases(-1, -1);

    long requireText(int atOffset) throws CfiFormatException {
        if (textVaddr < 0) {
            throw new CfiFormatException("textrel pointer at offset " + CfiReader.hex(atOffset)
                    + " but no .text address was given; pass PointerBases with textVaddr");
        }
        return textVaddr;
    }

    long requireData(int atOffset) throws CfiFormatException {
        if (dataVaddr < 0) {
            throw new CfiFormatException("datarel pointer at offset " + CfiReader.hex(atOffset)
                    + " but no data base address was given; pass PointerBases with dataVaddr");
        }
        return dataVaddr;
    }
}
