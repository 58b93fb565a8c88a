package io.moonwalk.containment;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The agent's worker threads and when each last showed it was alive. A worker registers when its thread starts,
 * {@link Beat#beat()}s at least every {@link #BEAT_NANOS} (also while idle: its waits are bounded by that), and
 * unregisters when it stops. {@code /readyz} and {@code /healthz} read {@link #workers()}: a thread that died, or
 * one that has not beaten for a while, is reported by name. Process-wide (one agent per JVM).
 */
public final class Heartbeats {
    /** Every worker beats at least this often; its idle waits are at most this long. */
    public static final long BEAT_NANOS = 1_000_000_000L;
    private static final List<Beat> WORKERS = new CopyOnWriteArrayList<>();

    /** One worker's heartbeat. */
    public static final class Beat implements AutoCloseable {
        private final String name;
        private final Thread thread;
        private volatile long last = System.nanoTime();

        private Beat(String name, Thread thread) {
            this.name = name;
            this.thread = thread;
        }

        /** The worker is alive and not stuck. Any cost: one volatile write. */
        public void beat() {
            last = System.nanoTime();
        }

        public String name() {
            return name;
        }

        /** False when the thread has ended (it died: a worker that stops unregisters first). */
        public boolean alive() {
            return thread.isAlive() || thread.getState() == Thread.State.NEW;
        }

        /** Nanoseconds since the last beat. */
        public long quietNanos() {
            return System.nanoTime() - last;
        }

        /** The worker stopped on purpose: no longer reported. */
        @Override
        public void close() {
            WORKERS.remove(this);
        }
    }

    private Heartbeats() {
    }

    /** Registers {@code thread} (started or about to be) under {@code name}, e.g. its thread name. */
    public static Beat register(String name, Thread thread) {
        Beat b = new Beat(name, thread);
        WORKERS.add(b);
        return b;
    }

    /** The registered workers now. */
    public static List<Beat> workers() {
        return List.copyOf(WORKERS);
    }
}
