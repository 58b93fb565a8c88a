package io.moonwalk.bpf.maps;

/**
 * How full one kernel map is, as the agent tracks it (the kernel has no cheap entry count).
 *
 * @param used     entries the agent has installed
 * @param capacity the map's max_entries
 * @param drops    writes refused because the map (or the entry range allocator in front of it) was full
 */
public record MapFill(String map, long used, long capacity, long drops) {
    public double ratio() {
        return capacity == 0 ? 0 : (double) used / capacity;
    }

    @Override
    public String toString() {
        return String.format("%s %d/%d (%.1f%%), %d dropped", map, used, capacity, 100 * ratio(), drops);
    }
}
