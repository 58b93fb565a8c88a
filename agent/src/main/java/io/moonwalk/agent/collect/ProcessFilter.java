package io.moonwalk.agent.collect;

import io.moonwalk.agent.bpf.RecordHandler;
import io.moonwalk.agent.bpf.SampleRecord;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Passes on the samples of processes the {@link ProcessSelector} accepts and counts the others.
 * Decisions are cached per PID in a fixed open-addressing table (no boxing on the per-sample path);
 * a process's entry is removed when it exits, and the whole table is reset when it fills up, so PID
 * reuse and churn cannot make it grow or go stale.
 */
public final class ProcessFilter implements RecordHandler {
    static final int CAPACITY = 1 << 14;
    private static final int MAX_FILL = CAPACITY / 2;
    private static final byte EMPTY = 0;
    private static final byte ACCEPT = 1;
    private static final byte REJECT = 2;
    private static final byte REMOVED = 3;

    private final ProcessSelector selector;
    private final RecordHandler next;
    private final Path proc;
    private final int[] pids = new int[CAPACITY];
    private final byte[] state = new byte[CAPACITY];
    private int used;
    private long filteredSamples;

    public ProcessFilter(ProcessSelector selector, RecordHandler next, Path proc) {
        this.selector = selector;
        this.next = next;
        this.proc = proc;
    }

    @Override
    public void onSample(SampleRecord r) {
        if (selector.acceptsAll() || accepted(r.pid())) {
            next.onSample(r);
        } else {
            filteredSamples++;
        }
    }

    @Override
    public void onExit(int pid, long ktimeNanos) {
        int slot = find(pid);
        if (slot >= 0) {
            state[slot] = REMOVED;
        }
        next.onExit(pid, ktimeNanos);
    }

    @Override
    public void onPidEvent(int type, int pid, long pc) {
        if (type == io.moonwalk.bpf.layout.RecordLayout.EVENT_EXEC) {
            // a new image: the executable (and so the decision) may have changed
            int slot = find(pid);
            if (slot >= 0) {
                state[slot] = REMOVED;
            }
        }
        // only processes we keep are worth syncing unwind tables for
        if (selector.acceptsAll() || accepted(pid)) {
            next.onPidEvent(type, pid, pc);
        }
    }

    private boolean accepted(int pid) {
        int slot = find(pid);
        if (slot >= 0) {
            return state[slot] == ACCEPT;
        }
        boolean ok = selector.accepts(proc, pid);
        if (used >= MAX_FILL) {
            Arrays.fill(state, EMPTY);
            used = 0;
        }
        int i = mix(pid);
        while (state[i] == ACCEPT || state[i] == REJECT) {
            i = (i + 1) & (CAPACITY - 1);
        }
        if (state[i] == EMPTY) {
            used++;
        }
        pids[i] = pid;
        state[i] = ok ? ACCEPT : REJECT;
        return ok;
    }

    private int find(int pid) {
        int i = mix(pid);
        for (int probes = 0; probes < CAPACITY; probes++) {
            byte s = state[i];
            if (s == EMPTY) {
                return -1;
            }
            if (s != REMOVED && pids[i] == pid) {
                return i;
            }
            i = (i + 1) & (CAPACITY - 1);
        }
        return -1;
    }

    private static int mix(int pid) {
        return (pid * 0x9E3779B1) >>> (32 - Integer.numberOfTrailingZeros(CAPACITY));
    }

    /** Samples of processes the selector rejected, since start. */
    public long filteredSamples() {
        return filteredSamples;
    }
}
