package io.moonwalk.unwinder.cfi;

/** DW_EH_PE_* constants (LSB "Linux Standard Base Core", exception frames). */
final class PointerEncoding {
    static final int ABSPTR = 0x00;
    static final int ULEB128 = 0x01;
    static final int UDATA2 = 0x02;
    static final int UDATA4 = 0x03;
    static final int UDATA8 = 0x04;
    static final int SLEB128 = 0x09;
    static final int SDATA2 = 0x0a;
    static final int SDATA4 = 0x0b;
    static final int SDATA8 = 0x0c;

    static final int ABS = 0x00;
    static final int PCREL = 0x10;
    static final int TEXTREL = 0x20;
    static final int DATAREL = 0x30;
    static final int FUNCREL = 0x40;
    static final int ALIGNED = 0x50;

    static final int INDIRECT = 0x80;
    static final int OMIT = 0xff;

    private PointerEncoding() {
    }
}
