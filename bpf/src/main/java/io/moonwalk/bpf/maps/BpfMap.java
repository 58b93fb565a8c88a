package io.moonwalk.bpf.maps;

/**
 * One BPF map as fixed-size byte keys and values, in the kernel's byte order. Operations return 0 or
 * the errno the kernel (or the in-memory twin) reports, so that "full" ({@code ENOSPC}, {@code E2BIG})
 * is an ordinary outcome the caller counts, not an exception.
 */
public interface BpfMap {
    String name();

    int keySize();

    int valueSize();

    int maxEntries();

    /** Inserts or replaces. 0, or errno (ENOSPC/E2BIG when the map is full). */
    int update(byte[] key, byte[] value);

    /** 0, or errno (ENOENT when absent). */
    int delete(byte[] key);

    /** Copies the value (of the longest matching prefix, for an LPM trie) into {@code valueOut}; false if absent. */
    boolean lookup(byte[] key, byte[] valueOut);

    /**
     * Writes {@code count} entries packed back to back in {@code keys} and {@code values}. 0, or the errno of the
     * first entry that failed (the ones before it are written).
     */
    default int updateBatch(byte[] keys, byte[] values, int count) {
        byte[] k = new byte[keySize()];
        byte[] v = new byte[valueSize()];
        for (int i = 0; i < count; i++) {
            System.arraycopy(keys, i * k.length, k, 0, k.length);
            System.arraycopy(values, i * v.length, v, 0, v.length);
            int rc = update(k, v);
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    }
}
