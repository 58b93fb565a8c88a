package io.moonwalk.bpf.maps;

import io.moonwalk.bpf.layout.RecordLayout;
import java.lang.foreign.MemoryLayout;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Maps held in this JVM with the kernel's semantics where the sync code depends on them: fixed capacities
 * (E2BIG for an array index out of range, ENOSPC for a new key in a full hash or trie) and longest-prefix
 * lookup for LPM tries ({@code u32 prefixlen} then the data bytes, most significant bit first). For tests and
 * coredump replay. Thread-safe.
 */
public final class InMemoryBpfMaps implements BpfMaps {
    public enum Type { HASH, ARRAY, LPM_TRIE }

    private final Map<String, Memory> maps = new LinkedHashMap<>();

    /** Adds a map; returns this for chaining. */
    public synchronized InMemoryBpfMaps add(String name, Type type, int keySize, int valueSize, int maxEntries) {
        if (type == Type.ARRAY && keySize != 4) {
            throw new IllegalArgumentException("array maps have 4-byte keys");
        }
        if (type == Type.LPM_TRIE && keySize <= 4) {
            throw new IllegalArgumentException("LPM trie keys are a u32 prefix length plus data");
        }
        maps.put(name, new Memory(name, type, keySize, valueSize, maxEntries));
        return this;
    }

    /** The unwinder's maps with the sizes of bpf/src/unwind.h scaled by the given capacities. */
    public static InMemoryBpfMaps unwinder(int pidMapEntries, int files, int entries, int rules) {
        return new InMemoryBpfMaps()
                .add(PID_MAPS, Type.LPM_TRIE, bytes(RecordLayout.PID_KEY), bytes(RecordLayout.MAPPING), pidMapEntries)
                .add(UNWIND_FILES, Type.HASH, bytes(RecordLayout.FILE_ID_KEY), bytes(RecordLayout.FILE_TABLE), files)
                .add(UNWIND_ENTRIES, Type.ARRAY, bytes(RecordLayout.INDEX_KEY), bytes(RecordLayout.UNWIND_ENTRY), entries)
                .add(UNWIND_RULES, Type.ARRAY, bytes(RecordLayout.INDEX_KEY), bytes(RecordLayout.UNWIND_RULE), rules)
                .add(LUAJIT_FILES, Type.HASH, bytes(RecordLayout.FILE_ID_KEY), bytes(RecordLayout.LUAJIT_FILE),
                        RecordLayout.LUAJIT_FILES_ENTRIES);
    }

    private static int bytes(MemoryLayout layout) {
        return (int) layout.byteSize();
    }

    @Override
    public synchronized BpfMap map(String name) {
        Memory m = maps.get(name);
        if (m == null) {
            throw new IllegalArgumentException("no map named " + name + " (have " + maps.keySet() + ")");
        }
        return m;
    }

    private static final class Memory extends SizedBpfMap {
        private final Type type;
        private final Map<ByteBuffer, byte[]> entries = new HashMap<>();

        Memory(String name, Type type, int keySize, int valueSize, int maxEntries) {
            super(name, keySize, valueSize, maxEntries);
            this.type = type;
        }

        @Override
        public synchronized int update(byte[] key, byte[] value) {
            check(key, value);
            ByteBuffer k = ByteBuffer.wrap(key.clone());
            if (type == Type.ARRAY) {
                if (Integer.toUnsignedLong(index(key)) >= maxEntries) {
                    return Errno.E2BIG;
                }
            } else if (type == Type.LPM_TRIE && prefixLength(key) > (keySize - 4) * 8) {
                return Errno.EINVAL;
            } else if (!entries.containsKey(k) && entries.size() >= maxEntries) {
                return Errno.ENOSPC;
            }
            entries.put(k, value.clone());
            return 0;
        }

        @Override
        public synchronized int delete(byte[] key) {
            check(key, null);
            if (type == Type.ARRAY) {
                return Errno.EINVAL; // like the kernel: array elements cannot be deleted
            }
            return entries.remove(ByteBuffer.wrap(key)) != null ? 0 : Errno.ENOENT;
        }

        @Override
        public synchronized boolean lookup(byte[] key, byte[] valueOut) {
            check(key, valueOut);
            byte[] v;
            if (type == Type.LPM_TRIE) {
                v = longestPrefix(key);
            } else {
                v = entries.get(ByteBuffer.wrap(key));
                if (v == null && type == Type.ARRAY && Integer.toUnsignedLong(index(key)) < maxEntries) {
                    v = new byte[valueSize]; // arrays are preallocated zeroes
                }
            }
            if (v == null) {
                return false;
            }
            System.arraycopy(v, 0, valueOut, 0, valueSize);
            return true;
        }

        /** Number of entries stored (for an array: elements ever written). */
        synchronized int size() {
            return entries.size();
        }

        private byte[] longestPrefix(byte[] key) {
            int lookupBits = prefixLength(key);
            int best = -1;
            byte[] found = null;
            for (Map.Entry<ByteBuffer, byte[]> e : entries.entrySet()) {
                byte[] stored = e.getKey().array();
                int bits = prefixLength(stored);
                if (bits > lookupBits || bits <= best || !samePrefix(stored, key, bits)) {
                    continue;
                }
                best = bits;
                found = e.getValue();
            }
            return found;
        }

        private static boolean samePrefix(byte[] a, byte[] b, int bits) {
            for (int i = 0; i < bits; i++) {
                int byteIndex = 4 + i / 8;
                int mask = 0x80 >>> (i % 8);
                if ((a[byteIndex] & mask) != (b[byteIndex] & mask)) {
                    return false;
                }
            }
            return true;
        }

        private static int prefixLength(byte[] key) {
            return index(key);
        }

        private static int index(byte[] key) {
            return (key[0] & 0xff) | (key[1] & 0xff) << 8 | (key[2] & 0xff) << 16 | (key[3] & 0xff) << 24;
        }
    }

    /** Entries stored in a map (tests). */
    public synchronized int size(String name) {
        return ((Memory) map(name)).size();
    }
}
