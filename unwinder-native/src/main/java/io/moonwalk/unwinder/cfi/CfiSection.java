package io.moonwalk.unwinder.cfi;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CIEs and FDEs of one .eh_frame or .debug_frame section. Framing errors (a length that runs past the
 * section) make the whole section unusable and throw; an entry whose contents are bad is skipped and counted,
 * because its neighbours are still reachable through their own lengths.
 */
public final class CfiSection {
    /** Which flavour of CFI: they differ in CIE ids, CIE pointers, versions and terminators. */
    public enum Kind { EH_FRAME, DEBUG_FRAME }

    private static final int MAX_AUGMENTATION = 64;
    private static final int MAX_REASONS = 8;

    private final Kind kind;
    private final CfiReader reader;
    private final List<Fde> fdes;
    private final int cieCount;
    private final int skippedEntries;
    private final List<String> skipReasons;

    private CfiSection(Kind kind, CfiReader reader, List<Fde> fdes, int cieCount, int skippedEntries,
            List<String> skipReasons) {
        this.kind = kind;
        this.reader = reader;
        this.fdes = fdes;
        this.cieCount = cieCount;
        this.skippedEntries = skippedEntries;
        this.skipReasons = skipReasons;
    }

    /**
     * Parses a section's bytes.
     *
     * @param section the section contents (position..limit); not modified
     * @param sectionVaddr the section's virtual address (pc-relative pointers are relative to it)
     * @param bases text/data bases for textrel/datarel pointers; {@link PointerBases#NONE} is right for x86_64
     */
    public static CfiSection parse(Kind kind, ByteBuffer section, long sectionVaddr, PointerBases bases)
            throws CfiFormatException {
        CfiReader r = new CfiReader(section, sectionVaddr);
        List<int[]> fdeFrames = new ArrayList<>();
        Map<Integer, Cie> cies = new HashMap<>();
        Map<Integer, String> badCies = new HashMap<>();
        List<String> reasons = new ArrayList<>();
        int skipped = 0;
        int cieCount = 0;
        int offset = 0;
        int size = r.size();
        while (offset < size) {
            r.setBounds(offset, size);
            if (r.remaining() < 4) {
                throw new CfiFormatException(kind + ": " + r.remaining() + " stray bytes at offset "
                        + CfiReader.hex(offset) + " (section truncated?)");
            }
            long length = r.u32();
            if (length == 0) {
                if (kind == Kind.EH_FRAME) {
                    break; // the zero terminator crtend.o appends
                }
                offset += 4;
                continue;
            }
            boolean dwarf64 = false;
            if (length == 0xffff_ffffL) {
                length = r.u64();
                dwarf64 = true;
            } else if (length >= 0xffff_fff0L) {
                throw new CfiFormatException(kind + ": reserved initial length 0x" + Long.toHexString(length)
                        + " at offset " + CfiReader.hex(offset));
            }
            int bodyStart = r.position();
            if (length < 0 || length > size - bodyStart) {
                throw new CfiFormatException(kind + ": entry at offset " + CfiReader.hex(offset) + " claims "
                        + Long.toUnsignedString(length) + " bytes but only " + (size - bodyStart)
                        + " remain; section truncated or corrupt");
            }
            int end = bodyStart + (int) length;
            r.setBounds(bodyStart, end);
            int idField = r.position();
            long id;
            try {
                id = dwarf64 ? r.u64() : r.u32();
            } catch (CfiFormatException e) {
                throw new CfiFormatException(kind + ": entry at offset " + CfiReader.hex(offset)
                        + " too short for its CIE id: " + e.getMessage());
            }
            boolean isCie = kind == Kind.EH_FRAME ? id == 0 : id == (dwarf64 ? -1L : 0xffff_ffffL);
            if (isCie) {
                cieCount++;
                try {
                    cies.put(offset, parseCie(kind, r, offset, end));
                } catch (CfiFormatException e) {
                    badCies.put(offset, e.getMessage());
                    skipped++;
                    note(reasons, "CIE at " + CfiReader.hex(offset) + ": " + e.getMessage());
                }
            } else {
                long cieOffset = kind == Kind.EH_FRAME ? idField - id : id;
                fdeFrames.add(new int[] {offset, r.position(), end,
                    (cieOffset < 0 || cieOffset >= size) ? -1 : (int) cieOffset});
            }
            offset = end;
        }
        List<Fde> fdes = new ArrayList<>(fdeFrames.size());
        for (int[] f : fdeFrames) {
            Cie cie = f[3] < 0 ? null : cies.get(f[3]);
            if (cie == null) {
                skipped++;
                String why = f[3] >= 0 && badCies.containsKey(f[3]) ? "its CIE is bad" : "no CIE at its CIE pointer";
                note(reasons, "FDE at " + CfiReader.hex(f[0]) + ": " + why);
                continue;
            }
            try {
                fdes.add(parseFde(r, bases, f[0], f[1], f[2], cie));
            } catch (CfiFormatException e) {
                skipped++;
                note(reasons, "FDE at " + CfiReader.hex(f[0]) + ": " + e.getMessage());
            }
        }
        return new CfiSection(kind, r, List.copyOf(fdes), cieCount, skipped, List.copyOf(reasons));
    }

    private static void note(List<String> reasons, String reason) {
        if (reasons.size() < MAX_REASONS) {
            reasons.add(reason);
        }
    }

    private static Cie parseCie(Kind kind, CfiReader r, int offset, int end) throws CfiFormatException {
        int version = r.u8();
        boolean versionOk = kind == Kind.EH_FRAME ? (version == 1 || version == 3)
                : (version == 1 || version == 3 || version == 4);
        if (!versionOk) {
            throw new CfiFormatException("unsupported " + kind + " CIE version " + version);
        }
        String aug = r.cstring(MAX_AUGMENTATION);
        int addressSize = 8;
        if (aug.startsWith("eh")) {
            r.skip(addressSize); // old GCC: address of the exception table, unused for unwinding
        }
        if (version >= 4) {
            addressSize = r.u8();
            int segmentSize = r.u8();
            if (addressSize != 4 && addressSize != 8) {
                throw new CfiFormatException("CIE address size " + addressSize + " not supported");
            }
            if (segmentSize != 0) {
                throw new CfiFormatException("segmented addresses (segment size " + segmentSize + ") not supported");
            }
        }
        long codeAlign = r.uleb();
        long dataAlign = r.sleb();
        long ra = version == 1 ? r.u8() : r.uleb();
        if (ra < 0 || ra > 0xffff) {
            throw new CfiFormatException("return address column " + ra + " out of range");
        }
        int fdeEncoding = PointerEncoding.ABSPTR;
        boolean signal = false;
        boolean z = aug.startsWith("z");
        if (z) {
            long augLen = r.uleb();
            if (augLen < 0 || augLen > r.remaining()) {
                throw new CfiFormatException("augmentation data length " + augLen + " exceeds the CIE");
            }
            int augEnd = r.position() + (int) augLen;
            int savedLimit = r.limit();
            r.setBounds(r.position(), augEnd);
            for (int i = 1; i < aug.length(); i++) {
                char c = aug.charAt(i);
                if (c == 'R') {
                    fdeEncoding = r.u8();
                } else if (c == 'P') {
                    int enc = r.u8();
                    r.skipEncodedPointer(enc, addressSize);
                } else if (c == 'L') {
                    r.u8();
                } else if (c == 'S') {
                    signal = true;
                } else if (c == 'B' || c == 'G') {
                    continue; // AArch64 BTI/MTE markers: no data
                } else {
                    break; // the 'z' length lets us skip what we do not understand
                }
            }
            r.setBounds(augEnd, savedLimit);
        } else if (!aug.isEmpty() && !aug.equals("eh")) {
            throw new CfiFormatException("unknown augmentation \"" + aug + "\" without 'z'; cannot find the "
                    + "initial instructions");
        }
        return new Cie(offset, version, aug, codeAlign, dataAlign, (int) ra, fdeEncoding, signal, z, addressSize,
                r.position(), end);
    }

    private static Fde parseFde(CfiReader r, PointerBases bases, int offset, int bodyPos, int end, Cie cie)
            throws CfiFormatException {
        r.setBounds(bodyPos, end);
        long pcBegin = r.encodedPointer(cie.fdeEncoding(), bases, cie.addressSize());
        long range = r.encodedPointer(cie.fdeEncoding() & 0x0f, PointerBases.NONE, cie.addressSize());
        if (cie.hasAugmentationData()) {
            long augLen = r.uleb();
            r.skip(augLen);
        }
        long pcEnd = pcBegin + range;
        if (range < 0 || Long.compareUnsigned(pcEnd, pcBegin) < 0) {
            throw new CfiFormatException("address range 0x" + Long.toHexString(pcBegin) + "+0x"
                    + Long.toHexString(range) + " wraps around");
        }
        return new Fde(offset, cie, pcBegin, pcEnd, r.position(), end);
    }

    public Kind kind() {
        return kind;
    }

    public List<Fde> fdes() {
        return fdes;
    }

    public int cieCount() {
        return cieCount;
    }

    /** CIEs and FDEs dropped because their contents were malformed (see {@link #skipReasons()}). */
    public int skippedEntries() {
        return skippedEntries;
    }

    /** The first few skip reasons, for a log line. */
    public List<String> skipReasons() {
        return skipReasons;
    }

    CfiReader reader() {
        return reader;
    }

    /** Runs the FDE's CFA program (after its CIE's initial instructions) into rows. */
    public List<CfaRow> evaluate(Fde fde) throws CfiFormatException {
        return new CfaProgramEvaluator(reader, kind).evaluate(fde);
    }
}
