package io.moonwalk.agent.export.otlp;

import io.moonwalk.agent.profile.Profile;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Asynchronous OTLP profiles export: callers hand over profiles without ever waiting on the network;
 * one sender thread delivers them in order with retries.
 *
 * <p>The queue is bounded in serialized bytes. When a new request does not fit, the <b>oldest</b>
 * queued requests are dropped (and counted) until it does: for a continuous profiler the most recent
 * window is the one an operator looks at when a collector comes back. A request larger than the
 * whole bound is dropped on arrival. Memory held is therefore at most the bound plus the one
 * request in flight.
 *
 * <p>Retryable failures (see {@link ExportException#retryable()}) are retried with
 * {@link RetryPolicy} backoff; after the last attempt, or on a permanent failure, the request is
 * counted as failed and the next one is sent.
 */
public final class OtlpExporter implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(OtlpExporter.class.getName());
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final OtlpSender sender;
    private final OtlpProfileEncoder encoder;
    private final long maxQueueBytes;
    private final RetryPolicy retry;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<ExportProfilesServiceRequest> queue = new ArrayDeque<>();
    private long queueBytes;
    private boolean inFlight;
    private boolean closed;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private long lastFailureLogNanos = System.nanoTime() - LOG_INTERVAL_NANOS;
    private long failuresSinceLog;

    private final Thread thread;

    /**
     * @param maxQueueBytes bound on the serialized size of queued requests
     */
    public OtlpExporter(OtlpSender sender, OtlpProfileEncoder encoder, long maxQueueBytes, RetryPolicy retry) {
        this.sender = Objects.requireNonNull(sender, "sender");
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.retry = Objects.requireNonNull(retry, "retry");
        if (maxQueueBytes <= 0) {
            throw new IllegalArgumentException("maxQueueBytes must be positive, got " + maxQueueBytes);
        }
        this.maxQueueBytes = maxQueueBytes;
        this.thread = Thread.ofPlatform().name("moonwalk-otlp-export").daemon(true).unstarted(this::run);
        thread.start();
    }

    /**
     * Encodes and queues {@code profile}; returns at once.
     *
     * @return true if queued, false if it was empty, too large for the queue, or the exporter is closed
     */
    public boolean offer(Profile profile) {
        return offer(encoder.encode(profile));
    }

    /** Encodes a window's profiles (CPU first, then its event profiles) into one request and queues it. */
    public boolean offer(java.util.List<Profile> profiles) {
        return offer(profiles.size() == 1 ? encoder.encode(profiles.get(0)) : encoder.encode(profiles));
    }

    /** Queues an already encoded request; returns at once. */
    public boolean offer(ExportProfilesServiceRequest request) {
        if (request.getResourceProfilesCount() == 0) {
            return false;
        }
        long size = request.getSerializedSize();
        lock.lock();
        try {
            if (closed || size > maxQueueBytes) {
                dropped.incrementAndGet();
                return false;
            }
            while (queueBytes + size > maxQueueBytes) {
                ExportProfilesServiceRequest old = queue.pollFirst();
                queueBytes -= old.getSerializedSize();
                dropped.incrementAndGet();
            }
            queue.addLast(request);
            queueBytes += size;
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until everything queued so far is delivered or given up, or until {@code timeout}.
     *
     * @return true if the queue drained in time
     */
    public boolean flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!queue.isEmpty() || inFlight) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Stops at once: the request in flight is abandoned, queued ones are counted as dropped. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        sender.close();
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            dropped.addAndGet(queue.size());
            queue.clear();
            queueBytes = 0;
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            ExportProfilesServiceRequest next;
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) {
                    changed.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                next = queue.pollFirst();
                queueBytes -= next.getSerializedSize();
                inFlight = true;
            } finally {
                lock.unlock();
            }
            try {
                deliver(next);
            } finally {
                lock.lock();
                try {
                    inFlight = false;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    private void deliver(ExportProfilesServiceRequest request) {
        for (int attempt = 1; ; attempt++) {
            try {
                sender.send(request);
                sent.incrementAndGet();
                return;
            } catch (ExportException e) {
                if (isClosed()) {
                    dropped.incrementAndGet();
                    return;
                }
                if (!e.retryable() || attempt >= retry.maxAttempts()) {
                    failed.incrementAndGet();
                    logFailure(e, attempt);
                    return;
                }
                retries.incrementAndGet();
                if (!sleep(retry.delay(attempt, e.retryAfter(), ThreadLocalRandom.current()))) {
                    dropped.incrementAndGet();
                    return;
                }
            } catch (RuntimeException e) {
                // A sender bug must not kill the only export thread.
                failed.incrementAndGet();
                logFailure(e, attempt);
                return;
            }
        }
    }

    /** Sleeps for the backoff unless closed meanwhile; returns false when closed. */
    private boolean sleep(Duration d) {
        long deadline = System.nanoTime() + d.toNanos();
        lock.lock();
        try {
            while (!closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return true;
                }
                try {
                    changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    return !closed;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** At most one line per minute while the receiver keeps failing; the counters carry the rest. */
    private void logFailure(Exception e, int attempts) {
        failuresSinceLog++;
        long now = System.nanoTime();
        if (now - lastFailureLogNanos >= LOG_INTERVAL_NANOS) {
            LOG.log(System.Logger.Level.WARNING, "OTLP profiles export gave up on {0} request(s) in the last"
                    + " interval; last after {1} attempt(s): {2}", failuresSinceLog, attempts, e.getMessage());
            lastFailureLogNanos = now;
            failuresSinceLog = 0;
        }
    }

    /** Requests delivered (including partially accepted ones). */
    public long sentRequests() {
        return sent.get();
    }

    /** Requests given up after a permanent error or the last retry. */
    public long failedRequests() {
        return failed.get();
    }

    /** Requests dropped because the queue was full, they were too large, or the exporter closed. */
    public long droppedRequests() {
        return dropped.get();
    }

    /** Retry attempts made. */
    public long retries() {
        return retries.get();
    }

    /** Profiles the receiver rejected via {@code partial_success}. */
    public long rejectedProfiles() {
        return sender.rejectedProfiles();
    }

    /** Serialized bytes waiting in the queue (excluding the request in flight). */
    public long queueBytes() {
        lock.lock();
        try {
            return queueBytes;
        } finally {
            lock.unlock();
        }
    }

    public int queuedRequests() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    public long maxQueueBytes() {
        return maxQueueBytes;
    }
}
