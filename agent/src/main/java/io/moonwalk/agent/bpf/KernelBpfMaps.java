package io.moonwalk.agent.bpf;

import io.moonwalk.bpf.maps.BpfMap;
import io.moonwalk.bpf.maps.SizedBpfMap;
import io.moonwalk.bpf.maps.BpfMaps;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The maps of a loaded BPF object, through libbpf. The map pointers belong to the object: its owner calls
 * {@link #invalidate()} before closing it, after which every operation fails with {@link IllegalStateException}
 * instead of touching freed memory. Operations are serialised on this instance (one sync thread uses them).
 */
public final class KernelBpfMaps implements BpfMaps {
    private final Function<String, MemorySegment> resolver;
    private final Map<String, Kernel> maps = new ConcurrentHashMap<>();
    private boolean valid = true;

    /** @param resolver the object's {@code struct bpf_map *} by name (throws for unknown names) */
    public KernelBpfMaps(Function<String, MemorySegment> resolver) {
        this.resolver = resolver;
    }

    @Override
    public BpfMap map(String name) {
        return maps.computeIfAbsent(name, n -> {
            synchronized (this) {
                ensureValid();
                return new Kernel(n, resolver.apply(n));
            }
        });
    }

    /** Called by the object's owner before the object is closed. */
    public synchronized void invalidate() {
        valid = false;
    }

    private void ensureValid() {
        if (!valid) {
            throw new IllegalStateException("the BPF object owning these maps is closed");
        }
    }

    private final class Kernel extends SizedBpfMap {
        private final MemorySegment map;
        private final int fd;

        Kernel(String name, MemorySegment map) {
            super(name, libbpf_h.bpf_map__key_size(map), libbpf_h.bpf_map__value_size(map),
                    libbpf_h.bpf_map__max_entries(map));
            this.map = map;
            this.fd = libbpf_h.bpf_map__fd(map);
        }

        @Override
        public int update(byte[] key, byte[] value) {
            check(key, value);
            synchronized (KernelBpfMaps.this) {
                ensureValid();
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment k = a.allocateFrom(JAVA_BYTE, key);
                    MemorySegment v = a.allocateFrom(JAVA_BYTE, value);
                    return -libbpf_h.bpf_map__update_elem(map, k, keySize, v, valueSize, libbpf_h.BPF_ANY());
                }
            }
        }

        @Override
        public int delete(byte[] key) {
            check(key, null);
            synchronized (KernelBpfMaps.this) {
                ensureValid();
                try (Arena a = Arena.ofConfined()) {
                    return -libbpf_h.bpf_map__delete_elem(map, a.allocateFrom(JAVA_BYTE, key), keySize, 0);
                }
            }
        }

        @Override
        public boolean lookup(byte[] key, byte[] valueOut) {
            check(key, valueOut);
            synchronized (KernelBpfMaps.this) {
                ensureValid();
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment v = a.allocate(valueSize);
                    int rc = libbpf_h.bpf_map__lookup_elem(map, a.allocateFrom(JAVA_BYTE, key), keySize, v, valueSize, 0);
                    if (rc < 0) {
                        return false;
                    }
                    MemorySegment.copy(v, JAVA_BYTE, 0, valueOut, 0, valueSize);
                    return true;
                }
            }
        }

        /** One BPF_MAP_UPDATE_BATCH syscall (5.6+) instead of one syscall per entry. */
        @Override
        public int updateBatch(byte[] keys, byte[] values, int count) {
            if (keys.length < (long) count * keySize || values.length < (long) count * valueSize) {
                throw new IllegalArgumentException("batch of " + count + " does not fit the given arrays");
            }
            synchronized (KernelBpfMaps.this) {
                ensureValid();
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment k = a.allocate((long) count * keySize);
                    MemorySegment.copy(keys, 0, k, JAVA_BYTE, 0, count * keySize);
                    MemorySegment v = a.allocate((long) count * valueSize);
                    MemorySegment.copy(values, 0, v, JAVA_BYTE, 0, count * valueSize);
                    MemorySegment n = a.allocate(JAVA_INT);
                    n.set(JAVA_INT, 0, count);
                    int rc = libbpf_h.bpf_map_update_batch(fd, k, v, n, MemorySegment.NULL);
                    return rc < 0 ? -rc : 0;
                }
            }
        }
    }
}
