package io.moonwalk.agent.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Byte sizes: {@code 1048576}, {@code 512K}, {@code 64M}, {@code 1G} (binary units; a trailing B or iB is allowed). */
public final class SizeConverter implements ITypeConverter<Long> {
    private static final Pattern FORM = Pattern.compile("(\\d{1,12})\\s*([kmgt]?)(i?b)?");

    @Override
    public Long convert(String value) {
        Matcher m = FORM.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new TypeConversionException("'" + value + "' is not a size: use bytes or K, M, G, e.g. 64M");
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        if (n == 0 || Long.numberOfLeadingZeros(n) <= shift) {
            throw new TypeConversionException("'" + value + "' is not a positive size that fits in 63 bits");
        }
        return n << shift;
    }
}
