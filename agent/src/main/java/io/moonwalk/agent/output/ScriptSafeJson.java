package io.moonwalk.agent.output;

/**
 * JSON string literals that are safe to place inside an HTML {@code <script>} element: every
 * character outside printable ASCII and every one of {@code < > & ' "} and backslash is written as
 * an escape, so no frame name can close the script element ({@code </script>}), open a comment
 * ({@code <!--}) or end the JSON string, whatever bytes the symbolizer read from a target.
 */
public final class ScriptSafeJson {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private ScriptSafeJson() {
    }

    public static void appendString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '<' && c != '>' && c != '&' && c != '\'' && c != '"' && c != '\\') {
                sb.append(c);
            } else {
                sb.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                        .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
            }
        }
        sb.append('"');
    }
}
