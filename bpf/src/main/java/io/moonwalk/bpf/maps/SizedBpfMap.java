package io.moonwalk.bpf.maps;

/**
 * What every {@link BpfMap} holds the same way, kernel or in-memory: its name and fixed key, value
 * and entry counts, and the check that a caller's buffers have those sizes.
 */
public abstract class SizedBpfMap implements BpfMap {
    private final String name;
    protected final int keySize;
    protected final int valueSize;
    protected final int maxEntries;

    protected SizedBpfMap(String name, int keySize, int valueSize, int maxEntries) {
        this.name = name;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int keySize() {
        return keySize;
    }

    @Override
    public final int valueSize() {
        return valueSize;
    }

    @Override
    public final int maxEntries() {
        return maxEntries;
    }

    /** Refuses a key (and value, when not null) whose size is not the map's. */
    protected final void check(byte[] key, byte[] value) {
        if (key.length != keySize || value != null && value.length != valueSize) {
            throw new IllegalArgumentException("map " + name + " has " + keySize + "-byte keys and " + valueSize
                    + "-byte values, got " + key.length + (value == null ? "" : "/" + value.length));
        }
    }
}
