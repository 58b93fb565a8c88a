package io.moonwalk.unwinder.lpm;

import io.moonwalk.bpf.layout.RecordLayout;
import java.lang.foreign.MemorySegment;

/**
 * The value of a pid_maps entry, {@code struct mw_mapping} (bpf/src/unwind.h), written and read through
 * {@link RecordLayout#MAPPING}: the one encoder for the native sync (file mappings, PID markers) and the LuaJIT
 * mcode routes.
 */
public final class MappingValue {
    /** Bytes of one value. */
    public static final int BYTES = (int) RecordLayout.MAPPING.byteSize();

    private MappingValue() {
    }

    /** Writes the value into {@code out} (at least {@link #BYTES} long) and returns it. */
    public static byte[] encode(byte[] out, long fileId, long bias, int kind, int flags) {
        MemorySegment v = MemorySegment.ofArray(out);
        RecordLayout.MAPPING_FILE_ID.set(v, 0L, fileId);
        RecordLayout.MAPPING_BIAS.set(v, 0L, bias);
        RecordLayout.MAPPING_KIND.set(v, 0L, kind);
        RecordLayout.MAPPING_FLAGS.set(v, 0L, flags);
        return out;
    }

    /** The {@code kind} (enum mw_map_kind) of an encoded value. */
    public static int kind(byte[] value) {
        return (int) RecordLayout.MAPPING_KIND.get(MemorySegment.ofArray(value), 0L);
    }
}
