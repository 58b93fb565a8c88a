package io.moonwalk.luajit.proto;

/** Strict UTF-8 validation of target bytes (names must decode without replacement characters). */
final class Utf8 {
    private Utf8() {
    }

    /**
     * Whether {@code b[from..to)} is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). With
     * {@code truncatedTail} an incomplete sequence cut by the end of the range is accepted.
     */
    static boolean isValid(byte[] b, int from, int to, boolean truncatedTail) {
        int i = from;
        while (i < to) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                i++;
                continue;
            }
            int n;
            int min;
            if (c >= 0xc2 && c <= 0xdf) {
                n = 1;
                min = 0x80;
            } else if (c >= 0xe0 && c <= 0xef) {
                n = 2;
                min = 0x800;
            } else if (c >= 0xf0 && c <= 0xf4) {
                n = 3;
                min = 0x10000;
            } else {
                return false;
            }
            if (i + n >= to) {
                return truncatedTail && tailOk(b, i + 1, to);
            }
            int cp = c & (0x3f >> n);
            for (int k = 1; k <= n; k++) {
                int cc = b[i + k] & 0xff;
                if ((cc & 0xc0) != 0x80) {
                    return false;
                }
                cp = cp << 6 | (cc & 0x3f);
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                return false;
            }
            i += n + 1;
        }
        return true;
    }

    private static boolean tailOk(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if ((b[i] & 0xc0) != 0x80) {
                return false;
            }
        }
        return true;
    }
}
