package io.moonwalk.unwinder.cfi;

import java.nio.ByteBuffer;

/**
 * The fixed header of .eh_frame_hdr. We read .eh_frame linearly, so the header only serves as a cross-check that
 * the caller passed matching section addresses, and as an FDE count for the stats.
 *
 * @param ehFramePtr address of .eh_frame the header points at
 * @param fdeCount entries in the binary-search table, or -1 if the header has none
 */
record EhFrameHdr(long ehFramePtr, long fdeCount) {

    static EhFrameHdr parse(ByteBuffer hdr, long hdrVaddr) throws CfiFormatException {
        CfiReader r = new CfiReader(hdr, hdrVaddr);
        PointerBases bases = new PointerBases(-1, hdrVaddr); // datarel in the header is relative to the header
        int version = r.u8();
        if (version != 1) {
            throw new CfiFormatException(".eh_frame_hdr version " + version + " (expected 1)");
        }
        int ptrEnc = r.u8();
        int countEnc = r.u8();
        r.u8(); // table encoding: the table itself is not used
        long ptr = r.encodedPointer(ptrEnc, bases, 8);
        long count = countEnc == PointerEncoding.OMIT ? -1 : r.encodedPointer(countEnc, bases, 8);
        return new EhFrameHdr(ptr, count);
    }
}
