package io.moonwalk.agent.output;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Strict reader of folded stacks: every line is {@code frame;frame;... count} where the count is
 * the decimal digits after the last space. Lines end in {@code \n}, {@code \r\n} or {@code \r}.
 * Blank lines, empty frames, control characters, signs, zero and overflowing counts are rejected
 * with the line number, so a damaged file is noticed instead of silently miscounted.
 */
public final class FoldedParser {

    /** Longest line accepted; far above any real stack (a few KB), so longer means garbage. */
    static final int MAX_LINE_CHARS = 1 << 20;

    private FoldedParser() {
    }

    public static List<FoldedStack> parse(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(r);
        }
    }

    public static List<FoldedStack> parse(String text) throws FoldedFormatException {
        try {
            return parse(new StringReader(text));
        } catch (FoldedFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new AssertionError("reading a string failed", e);
        }
    }

    /** Parses every line of {@code reader}; a final line break is optional. */
    public static List<FoldedStack> parse(Reader reader) throws IOException {
        BufferedReader r = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        List<FoldedStack> stacks = new ArrayList<>();
        int lineNumber = 0;
        for (String line; (line = r.readLine()) != null; ) {
            stacks.add(parseLine(line, ++lineNumber));
        }
        return stacks;
    }

    /** Parses one line (without its line break); {@code lineNumber} is used in error messages. */
    public static FoldedStack parseLine(String line, int lineNumber) throws FoldedFormatException {
        if (line.length() > MAX_LINE_CHARS) {
            throw new FoldedFormatException(lineNumber, "longer than " + MAX_LINE_CHARS + " characters");
        }
        if (line.isEmpty()) {
            throw new FoldedFormatException(lineNumber, "empty line");
        }
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                throw new FoldedFormatException(lineNumber,
                        String.format("control character U+%04X at column %d", (int) c, i + 1));
            }
        }
        int space = line.lastIndexOf(' ');
        if (space < 0) {
            throw new FoldedFormatException(lineNumber, "no space before the sample count");
        }
        long count = parseCount(line.substring(space + 1), lineNumber);
        String stack = line.substring(0, space);
        if (stack.isEmpty()) {
            throw new FoldedFormatException(lineNumber, "empty stack before the sample count");
        }
        List<String> frames = new ArrayList<>();
        int start = 0;
        while (true) {
            int semi = stack.indexOf(';', start);
            int end = semi < 0 ? stack.length() : semi;
            if (end == start) {
                throw new FoldedFormatException(lineNumber, "empty frame at column " + (start + 1));
            }
            frames.add(stack.substring(start, end));
            if (semi < 0) {
                break;
            }
            start = semi + 1;
        }
        return new FoldedStack(frames, count);
    }

    private static long parseCount(String digits, int lineNumber) throws FoldedFormatException {
        if (digits.isEmpty()) {
            throw new FoldedFormatException(lineNumber, "missing sample count after the last space");
        }
        long value = 0;
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c < '0' || c > '9') {
                throw new FoldedFormatException(lineNumber, "sample count '" + digits + "' is not a decimal number");
            }
            try {
                value = Math.addExact(Math.multiplyExact(value, 10), c - '0');
            } catch (ArithmeticException e) {
                throw new FoldedFormatException(lineNumber, "sample count '" + digits + "' is too large");
            }
        }
        if (value == 0) {
            throw new FoldedFormatException(lineNumber, "sample count is zero");
        }
        return value;
    }
}
