package io.moonwalk.luajit.naming;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Heartbeats;
import io.moonwalk.containment.Stage;
import io.moonwalk.luajit.detect.LuajitBinary;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads the GCprotos of Lua frames on a thread of its own as soon as the drain thread first sees them in a
 * window, so that naming at the window's end finds them cached: a process that exits before its window ends
 * keeps its names, and a new process is named from protos read within milliseconds of its first samples.
 *
 * <p>The queue is bounded ({@value #QUEUE_CAPACITY} frames); a full queue drops the request (counted), and the
 * window-end naming then reads that proto itself, as it would without prefetching. Requests are deduplicated
 * over the last {@value #RECENT_FRAMES} distinct frames. {@link #offer} is for one producer thread (the drain
 * thread); the rest is thread-safe.
 */
public final class ProtoPrefetcher implements AutoCloseable {
    public static final int QUEUE_CAPACITY = 4096;
    public static final int RECENT_FRAMES = 16384;

    private record Request(int pid, LuajitBinary binary, long pt, long pc, long fingerprint, long callerPt,
            long callerPc, long callerFingerprint) {
    }

    /** What the name of a frame depends on (the binary follows from the pid). */
    private record Key(int pid, long pt, long pc, long fingerprint, long callerPt, long callerPc,
            long callerFingerprint) {
    }

    private static final Request POISON = new Request(0, null, 0, 0, 0, 0, 0, 0);

    private final LuaFrameSymbolizer symbolizer;
    private final BlockingQueue<Request> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final Map<Key, Boolean> recent = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Boolean> eldest) {
            return size() > RECENT_FRAMES;
        }
    };
    private final Object idle = new Object();
    private long pending; // guarded by idle
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong read = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Thread thread;
    private final Heartbeats.Beat beat;
    private volatile boolean closed;

    public ProtoPrefetcher(LuaFrameSymbolizer symbolizer) {
        this.symbolizer = symbolizer;
        this.thread = Thread.ofPlatform().daemon().name("moonwalk-proto-prefetch").unstarted(this::loop);
        this.beat = Heartbeats.register("moonwalk-proto-prefetch", thread);
        thread.start();
    }

    /**
     * Queues the protos of one Lua frame (and of its Lua caller, callerPt 0 if none) for reading, unless the
     * same frame was queued recently. Never blocks. Drain thread only.
     */
    public void offer(int pid, LuajitBinary binary, long pt, long pc, long fingerprint, long callerPt,
            long callerPc, long callerFingerprint) {
        if (closed || recent.putIfAbsent(new Key(pid, pt, pc, fingerprint, callerPt, callerPc, callerFingerprint),
                Boolean.TRUE) != null) {
            return;
        }
        synchronized (idle) {
            pending++;
        }
        if (queue.offer(new Request(pid, binary, pt, pc, fingerprint, callerPt, callerPc, callerFingerprint))) {
            queued.incrementAndGet();
        } else {
            dropped.incrementAndGet();
            // not read: a later sample of the same frame may try again
            recent.remove(new Key(pid, pt, pc, fingerprint, callerPt, callerPc, callerFingerprint));
            done();
        }
    }

    /**
     * Waits until every queued frame was read or {@code timeoutNanos} passed (so names of frames seen just
     * before a window's end come from a read made while they were fresh). True when idle.
     */
    public boolean awaitIdle(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        synchronized (idle) {
            while (pending > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(idle, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    private void loop() {
        while (true) {
            Request r;
            beat.beat();
            try {
                r = queue.poll(Heartbeats.BEAT_NANOS, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (r == null) {
                continue;
            }
            if (r == POISON) {
                return;
            }
            try {
                Faults.inject(Stage.PROTO_PREFETCH, r.pid);
                if (symbolizer.warm(r.pid, r.binary, r.pt, r.pc, r.fingerprint, r.callerPt, r.callerPc,
                        r.callerFingerprint)) {
                    read.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                }
            } catch (RuntimeException | Error e) {
                // hostile memory or a bug must not end the thread: the frame is named (or marked) at window end
                failed.incrementAndGet();
                Faults.contained(Stage.PROTO_PREFETCH, "reading a Lua proto of pid " + r.pid, e);
            } finally {
                done();
            }
        }
    }

    private void done() {
        synchronized (idle) {
            pending--;
            if (pending == 0) {
                idle.notifyAll();
            }
        }
    }

    /** Frames queued for reading since start. */
    public long queued() {
        return queued.get();
    }

    /** Frames not queued because the queue was full. */
    public long dropped() {
        return dropped.get();
    }

    /** Queued frames whose proto was read and validated (or found cached). */
    public long read() {
        return read.get();
    }

    /** Queued frames whose proto could not be read or failed a check (stale, process gone, invalid). */
    public long failed() {
        return failed.get();
    }

    /** Frames waiting in the queue now. */
    public int queueSize() {
        return queue.size();
    }

    /** Stops the reading thread (queued frames are abandoned). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        beat.close();
        queue.clear();
        while (!queue.offer(POISON)) {
            queue.clear();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (idle) {
            pending = 0;
            idle.notifyAll();
        }
    }
}
