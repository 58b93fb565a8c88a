package io.moonwalk.luajit.proto;

import io.moonwalk.process.MemoryReader;
import io.moonwalk.process.ReadStatus;
import java.util.Map;
import java.util.TreeMap;

/** A synthetic target address space: byte regions at fixed addresses, anything else unmapped. */
final class ImageMemory implements MemoryReader {
    private final TreeMap<Long, byte[]> regions = new TreeMap<>();
    private int lastCount;
    long reads;

    void put(long address, byte[] bytes) {
        regions.put(address, bytes);
    }

    @Override
    public ReadStatus read(int pid, long address, byte[] dst, int offset, int length) {
        reads++;
        lastCount = 0;
        Map.Entry<Long, byte[]> e = regions.floorEntry(address);
        if (e == null || address - e.getKey() >= e.getValue().length || address < e.getKey()) {
            return ReadStatus.UNMAPPED;
        }
        int from = (int) (address - e.getKey());
        int n = Math.min(length, e.getValue().length - from);
        System.arraycopy(e.getValue(), from, dst, offset, n);
        lastCount = n;
        return n == length ? ReadStatus.OK : ReadStatus.PARTIAL;
    }

    @Override
    public int lastCount() {
        return lastCount;
    }
}
