package io.moonwalk.symbolize.demangle;

/**
 * Rust's legacy mangling: an Itanium-shaped {@code _ZN...E} path whose last element is
 * {@code 17h<16 hex digits>}, with {@code $LT$}-style escapes inside elements. Rendered like
 * rustc-demangle's alternate form: the hash is dropped.
 */
final class RustLegacy {
    private static final int HASH_LENGTH = 17;

    private RustLegacy() {
    }

    /** The demangled path, or null when {@code name} is not a Rust legacy symbol. */
    static String demangle(String name) {
        if (!name.startsWith("_ZN")) {
            return null;
        }
        // Suffixes after the path (LLVM's ".llvm.<digits>", ".0" of split copies) are not part of the name.
        int end = name.length();
        int dot = name.indexOf('.');
        while (dot > 0 && name.charAt(dot - 1) != 'E') {
            dot = name.indexOf('.', dot + 1);
        }
        if (dot > 0) {
            end = dot;
        }
        if (end < 4 || name.charAt(end - 1) != 'E') {
            return null;
        }
        int pos = 3;
        int lastStart = -1;
        int lastLen = 0;
        int count = 0;
        while (pos < end - 1) {
            int len = 0;
            int digits = 0;
            while (pos < end && Character.isDigit(name.charAt(pos))) {
                len = len * 10 + (name.charAt(pos++) - '0');
                if (++digits > 5) {
                    return null;
                }
            }
            if (digits == 0 || len == 0 || pos + len > end - 1) {
                return null;
            }
            lastStart = pos;
            lastLen = len;
            pos += len;
            count++;
        }
        if (count < 2 || !isHash(name, lastStart, lastLen)) {
            return null;
        }
        StringBuilder out = new StringBuilder(end);
        pos = 3;
        for (int i = 0; i < count - 1; i++) {
            int len = 0;
            while (Character.isDigit(name.charAt(pos))) {
                len = len * 10 + (name.charAt(pos++) - '0');
            }
            if (i > 0) {
                out.append("::");
            }
            if (!appendElement(out, name, pos, pos + len)) {
                return null;
            }
            pos += len;
        }
        return out.toString();
    }

    private static boolean isHash(String s, int start, int len) {
        if (len != HASH_LENGTH || s.charAt(start) != 'h') {
            return false;
        }
        for (int i = start + 1; i < start + len; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean appendElement(StringBuilder out, String s, int from, int to) {
        int i = from;
        if (s.startsWith("_$", i)) {
            i++;
        }
        while (i < to) {
            char c = s.charAt(i);
            if (c == '.') {
                if (i + 1 < to && s.charAt(i + 1) == '.') {
                    out.append("::");
                    i += 2;
                } else {
                    out.append('.');
                    i++;
                }
            } else if (c == '$') {
                int close = s.indexOf('$', i + 1);
                if (close < 0 || close >= to) {
                    return false;
                }
                String esc = s.substring(i + 1, close);
                String rep = switch (esc) {
                    case "SP" -> "@";
                    case "BP" -> "*";
                    case "RF" -> "&";
                    case "LT" -> "<";
                    case "GT" -> ">";
                    case "LP" -> "(";
                    case "RP" -> ")";
                    case "C" -> ",";
                    default -> unicodeEscape(esc);
                };
                if (rep == null) {
                    return false;
                }
                out.append(rep);
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return true;
    }

    private static String unicodeEscape(String esc) {
        if (esc.length() < 2 || esc.length() > 7 || esc.charAt(0) != 'u') {
            return null;
        }
        int cp = 0;
        for (int i = 1; i < esc.length(); i++) {
            int d = Character.digit(esc.charAt(i), 16);
            if (d < 0 || Character.isUpperCase(esc.charAt(i))) {
                return null;
            }
            cp = cp * 16 + d;
        }
        if (!Character.isValidCodePoint(cp) || Character.isISOControl(cp)) {
            return null;
        }
        return Character.toString(cp);
    }
}
