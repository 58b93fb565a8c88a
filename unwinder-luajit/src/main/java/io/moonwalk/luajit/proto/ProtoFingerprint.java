package io.moonwalk.luajit.proto;

import io.moonwalk.luajit.layout.LuajitLayout;

/**
 * The 64-bit fingerprint of a GCproto's immutable header fields. The kernel walker computes it at sample
 * time from the header it reads at {@code pt}; the agent computes it again when it reads the proto later. A
 * different value means the address now holds another proto (freed and reused), so the frame is stale.
 *
 * <p>Definition (all loads little-endian from {@code H} = the {@code layout.ptSize()} header bytes at
 * {@code pt}; {@code u32(o)}/{@code i32(o)} 4 bytes at offset o, {@code u8(o)} 1 byte, {@code ref(o)} a
 * GCRef/MRef of {@code layout.refSize()} bytes zero-extended to 64 bits; arithmetic mod 2^64):
 *
 * <pre>
 *   w0 = u32(ptSizebc)  | u32(ptSizept) &lt;&lt; 32
 *   w1 = u32(ptSizekgc) | u32(ptSizekn) &lt;&lt; 32
 *   w2 = u8(ptNumparams) | u8(ptFramesize) &lt;&lt; 8 | u8(ptSizeuv) &lt;&lt; 16
 *   w3 = u32(ptFirstline) | u32(ptNumline) &lt;&lt; 32
 *   w4 = ref(ptChunkname)
 *   w5 = ref(ptLineinfo) == 0 ? 0 : ref(ptLineinfo) - pt
 *   h  = 0x6d6f6f6e77616c6b                     ("moonwalk" in ASCII)
 *   for w in w0..w5:  h = fmix64(h ^ w)
 *   fingerprint = h == 0 ? 1 : h                 (0 is reserved for "no fingerprint")
 *
 *   fmix64(x): x ^= x &gt;&gt; 33; x *= 0xff51afd7ed558ccd; x ^= x &gt;&gt; 33; x *= 0xc4ceb9fe1a85ec53; x ^= x &gt;&gt; 33
 *   (logical shifts, i.e. MurmurHash3's 64-bit finalizer)
 * </pre>
 *
 * GC64 offsets: sizebc 0xc, sizept 0x38, sizekgc 0x30, sizekn 0x34, numparams 0xa, framesize 0xb, sizeuv
 * 0x3c, firstline 0x48, numline 0x4c, chunkname 0x40 (8 bytes), lineinfo 0x50 (8 bytes). Excluded on purpose:
 * {@code marked} (GC colour), {@code flags} (closure counter bits), {@code trace} and the bytecode (patched by
 * the JIT), {@code gclist}.
 *
 * <p>Test vector (GC64 offsets, refSize 8): header byte i = (i * 37 + 11) mod 256 for i in [0, 0x68), pt =
 * 0x7f0012345600 gives 0x8464354165b31647 (checked against a C implementation in ProtoFingerprintTest).
 */
public final class ProtoFingerprint {
    private ProtoFingerprint() {
    }

    public static final long SEED = 0x6d6f6f6e77616c6bL;

    /** Fingerprint of the header bytes {@code header[0 .. layout.ptSize())} of the proto at {@code pt}. */
    public static long fingerprint(byte[] header, long pt, LuajitLayout layout) {
        return fingerprint(header, 0, pt, layout);
    }

    /** As {@link #fingerprint(byte[], long, LuajitLayout)} with the header starting at {@code base}. */
    public static long fingerprint(byte[] b, int base, long pt, LuajitLayout l) {
        long w0 = u32(b, base + l.ptSizebc()) | u32(b, base + l.ptSizept()) << 32;
        long w1 = u32(b, base + l.ptSizekgc()) | u32(b, base + l.ptSizekn()) << 32;
        long w2 = u8(b, base + l.ptNumparams()) | u8(b, base + l.ptFramesize()) << 8 | u8(b, base + l.ptSizeuv()) << 16;
        long w3 = u32(b, base + l.ptFirstline()) | u32(b, base + l.ptNumline()) << 32;
        long w4 = ref(b, base + l.ptChunkname(), l.refSize());
        long li = ref(b, base + l.ptLineinfo(), l.refSize());
        long w5 = li == 0 ? 0 : li - pt;
        long h = SEED;
        h = fmix64(h ^ w0);
        h = fmix64(h ^ w1);
        h = fmix64(h ^ w2);
        h = fmix64(h ^ w3);
        h = fmix64(h ^ w4);
        h = fmix64(h ^ w5);
        return h == 0 ? 1 : h;
    }

    public static long fmix64(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        x ^= x >>> 33;
        return x;
    }

    static long u8(byte[] b, int o) {
        return b[o] & 0xffL;
    }

    static long u32(byte[] b, int o) {
        return (b[o] & 0xffL) | (b[o + 1] & 0xffL) << 8 | (b[o + 2] & 0xffL) << 16 | (b[o + 3] & 0xffL) << 24;
    }

    static long u64(byte[] b, int o) {
        return u32(b, o) | u32(b, o + 4) << 32;
    }

    static long ref(byte[] b, int o, int refSize) {
        return refSize == 8 ? u64(b, o) : u32(b, o);
    }
}
