package io.moonwalk.luajit.gc;

/**
 * One VM's GC heap at one moment ({@code g->gc}).
 *
 * @param pid        the process
 * @param g          the VM identity ({@code global_State} address)
 * @param bytes      {@code gc.total}: bytes the VM's allocator holds for GC objects, strings, stacks, JIT
 *                   buffers — what {@code collectgarbage("count")} returns, times 1024
 * @param threshold  {@code gc.threshold}: when {@code bytes} reaches it the next incremental GC step runs
 * @param state      {@code gc.state}: the collector's phase ({@link #STATE_NAMES})
 */
public record GcHeap(int pid, long g, long bytes, long threshold, int state) {
    /** GC phases in lj_gc.h order (GCSpause .. GCSfinalize), named as LuaJIT's sources name them. */
    public static final String[] STATE_NAMES = {"pause", "propagate", "atomic", "sweepstring", "sweep", "finalize"};

    public String stateName() {
        return STATE_NAMES[state];
    }
}
