package io.moonwalk.luajit.detect;

/**
 * How one value of a detected binary was found, for logs and for the report of a refusal.
 *
 * @param field the layout field (e.g. {@code g2disp}, {@code gVmstate})
 * @param value the value found
 * @param how   where it came from: the instruction and its address, or the known layout it was taken from
 */
public record Evidence(String field, long value, String how) {
    @Override
    public String toString() {
        return field + "=0x" + Long.toHexString(value) + " (" + how + ")";
    }
}
