package io.moonwalk.unwinder.sync;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Heartbeats;
import io.moonwalk.containment.Stage;
import java.util.HashMap;
import java.util.Iterator;
import io.moonwalk.bpf.maps.MapFill;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs {@link ProcessMapSync} on its own thread so that reading /proc and building unwind tables (tens of
 * milliseconds for a large file) never stalls the ring-buffer drain. The drain thread only enqueues: a bounded
 * queue of PIDs, one pending request per PID (a newer request for the same PID merges into it; an exit
 * supersedes a sync), and when the queue is full the request is dropped and counted (the kernel asks again).
 *
 * <p>Re-syncs on unknown PCs are rate-limited per PID with a back-off: {@link #MIN_RESYNC_NANOS} after a re-sync
 * that found changed mappings, doubling up to {@link #MAX_RESYNC_NANOS} while re-syncs find nothing new (a PC
 * outside every mapping that no sync can fix, e.g. garbage in a corrupt stack). An exec is never rate-limited: the
 * kernel has already dropped the PID's marker, so until the re-sync its samples are frame-pointer only; the exec
 * also resets the back-off, which described the old image.
 */
public final class MapSyncWorker implements AutoCloseable {
    public static final int DEFAULT_QUEUE_CAPACITY = 4096;
    static final long MIN_RESYNC_NANOS = 200_000_000L;
    static final long MAX_RESYNC_NANOS = 5_000_000_000L;
    /** How often synced PIDs are checked against /proc (exits lost to a full ring buffer, recycled PIDs). */
    static final long SWEEP_NANOS = 5_000_000_000L;
    /** Back-off state is kept for at most this many PIDs (oldest forgotten first). */
    private static final int MAX_BACKOFF_PIDS = 16384;

    private enum Kind { SYNC, RESYNC, EXEC, EXIT }

    private record Backoff(long notBefore, long interval) {
    }

    private final ProcessMapSync sync;
    private final int capacity;
    private final LinkedHashMap<Integer, Kind> pending = new LinkedHashMap<>();
    private final Map<Integer, Backoff> backoff = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Backoff> eldest) {
            return size() > MAX_BACKOFF_PIDS;
        }
    };
    private final Thread thread;
    private final Heartbeats.Beat beat;
    private boolean closed;
    private long queueDrops;
    private long rateLimited;
    private long processed;
    private long syncNanos;
    private long maxSyncNanos;
    private long nextSweep = System.nanoTime() + SWEEP_NANOS;
    private volatile List<MapFill> fill;

    public MapSyncWorker(ProcessMapSync sync) {
        this(sync, DEFAULT_QUEUE_CAPACITY);
    }

    public MapSyncWorker(ProcessMapSync sync, int queueCapacity) {
        this.sync = sync;
        this.capacity = queueCapacity;
        this.fill = sync.fill();
        this.thread = Thread.ofPlatform().daemon().name("moonwalk-map-sync").unstarted(this::run);
        this.beat = Heartbeats.register("moonwalk-map-sync", thread);
        thread.start();
    }

    /** The kernel saw a sample of a PID whose maps are not installed (MW_EVENT_NEW_PID). */
    public void newPid(int pid) {
        enqueue(pid, Kind.SYNC);
    }

    /** The kernel walker met a PC outside every installed mapping of a synced PID (MW_EVENT_UNKNOWN_PC). */
    public void unknownPc(int pid) {
        enqueue(pid, Kind.RESYNC);
    }

    /**
     * The process replaced its image (MW_EVENT_EXEC); the kernel already removed its marker. Re-synced ahead of the
     * back-off.
     */
    public void execed(int pid) {
        enqueue(pid, Kind.EXEC);
    }

    /** The process exited: everything installed for it goes. */
    public void exited(int pid) {
        enqueue(pid, Kind.EXIT);
    }

    /** Syncs on the calling thread now (e.g. the --pid targets before sampling starts). */
    public ProcessMapSync.Result syncNow(int pid) {
        ProcessMapSync.Result r = sync.sync(pid);
        fill = sync.fill();
        return r;
    }

    private synchronized void enqueue(int pid, Kind kind) {
        if (closed) {
            return;
        }
        Kind old = pending.get(pid);
        if (old != null) {
            if (kind.ordinal() > old.ordinal()) { // the stronger request wins: EXIT > EXEC > RESYNC > SYNC
                pending.put(pid, kind);
            }
            return;
        }
        if (pending.size() >= capacity) {
            queueDrops++;
            return;
        }
        pending.put(pid, kind);
        notifyAll();
    }

    private void run() {
        while (true) {
            int pid;
            Kind kind;
            boolean sweep = false;
            synchronized (this) {
                while (pending.isEmpty() && !closed) {
                    beat.beat();
                    long wait = Math.min(nextSweep - System.nanoTime(), Heartbeats.BEAT_NANOS);
                    if (nextSweep - System.nanoTime() <= 0) {
                        sweep = true;
                        break;
                    }
                    try {
                        wait(Math.max(1, wait / 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                if (sweep || System.nanoTime() - nextSweep >= 0) {
                    nextSweep = System.nanoTime() + SWEEP_NANOS;
                    sweep = true;
                }
            }
            if (sweep) {
                try {
                    for (int gone : sync.reconcile()) {
                        synchronized (this) {
                            backoff.remove(gone);
                        }
                    }
                    fill = sync.fill();
                } catch (RuntimeException | Error e) {
                    Faults.contained(Stage.MAP_SYNC, "checking synced processes against /proc", e);
                }
            }
            synchronized (this) {
                if (pending.isEmpty()) {
                    continue;
                }
                Iterator<Map.Entry<Integer, Kind>> it = pending.entrySet().iterator();
                Map.Entry<Integer, Kind> e = it.next();
                it.remove();
                pid = e.getKey();
                kind = e.getValue();
            }
            beat.beat();
            try {
                Faults.inject(Stage.MAP_SYNC, pid);
                handle(pid, kind);
            } catch (RuntimeException | Error e) {
                // one process's problem must not end syncing for all (OutOfMemoryError ends the JVM before this)
                Faults.contained(Stage.MAP_SYNC, "syncing the maps of pid " + pid, e);
                synchronized (this) { // marked: its next requests wait out the longest back-off
                    backoff.put(pid, new Backoff(System.nanoTime() + MAX_RESYNC_NANOS, MAX_RESYNC_NANOS));
                }
            }
            // published here, on the thread that changes the maps, so readers never wait for a sync in progress
            fill = sync.fill();
        }
    }

    private void handle(int pid, Kind kind) {
        if (kind == Kind.EXIT) {
            sync.remove(pid);
            synchronized (this) {
                backoff.remove(pid);
                processed++;
            }
            return;
        }
        if (kind == Kind.SYNC && sync.isSynced(pid)) {
            if (sync.markerInKernel(pid)) {
                return; // an event from before the sync finished
            }
            // the kernel dropped the marker but its exec event was lost (ring buffer full): the same as an exec
            kind = Kind.EXEC;
        }
        if (kind == Kind.EXEC) {
            sync.markerDropped(pid);
            synchronized (this) {
                backoff.remove(pid);
            }
        }
        long now = System.nanoTime();
        Backoff b;
        synchronized (this) {
            b = backoff.get(pid);
            if (b != null && now - b.notBefore() < 0) {
                rateLimited++;
                return;
            }
        }
        long t0 = System.nanoTime();
        ProcessMapSync.Result r = sync.sync(pid);
        long took = System.nanoTime() - t0;
        synchronized (this) {
            processed++;
            syncNanos += took;
            maxSyncNanos = Math.max(maxSyncNanos, took);
            // only re-syncs that found nothing new back off: a sync that changed the maps starts over
            // a full pid_maps backs off like a fruitless re-sync: retrying every 200 ms cannot free entries
            boolean fruitless = kind == Kind.RESYNC || r == ProcessMapSync.Result.PID_MAPS_FULL;
            long interval = r == ProcessMapSync.Result.SYNCED || b == null || !fruitless ? MIN_RESYNC_NANOS
                    : Math.min(MAX_RESYNC_NANOS, b.interval() * 2);
            if (r == ProcessMapSync.Result.GONE) {
                backoff.remove(pid);
            } else {
                backoff.put(pid, new Backoff(System.nanoTime() + interval, interval));
            }
        }
    }

    /**
     * Fill of the maps the sync writes, as of the last request this worker handled (or its start). Lock-free: the
     * drain thread and the metrics read it without waiting for a sync in progress.
     */
    public List<MapFill> fill() {
        return fill;
    }

    /** Requests dropped because the queue was full. */
    public synchronized long queueDrops() {
        return queueDrops;
    }

    /** Re-sync requests skipped by the per-PID back-off. */
    public synchronized long rateLimited() {
        return rateLimited;
    }

    /** Syncs and removals done. */
    public synchronized long processed() {
        return processed;
    }

    public synchronized long maxSyncNanos() {
        return maxSyncNanos;
    }

    public synchronized long totalSyncNanos() {
        return syncNanos;
    }

    /** Requests waiting. */
    public synchronized int queued() {
        return pending.size();
    }

    public ProcessMapSync sync() {
        return sync;
    }

    /** Stops the thread (after the request in progress); pending requests are discarded. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            pending.clear();
            notifyAll();
        }
        beat.close();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
