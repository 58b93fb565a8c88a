package io.moonwalk.agent.daemon;

import io.moonwalk.agent.export.otlp.ExportException;
import io.moonwalk.agent.export.otlp.OtlpSender;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Times each export attempt and remembers the outcome of the last one, for the export latency
 * metric and {@code /readyz}. Attempts, not requests: a retried request is timed once per try.
 */
public final class MeasuredSender implements OtlpSender {
    /** Receives one attempt's duration and outcome. */
    public interface Listener {
        void attempt(long nanos, boolean success);
    }

    private final OtlpSender delegate;
    private volatile Listener listener = (n, ok) -> { };
    private final AtomicReference<String> lastError = new AtomicReference<>();
    private final AtomicLong attempts = new AtomicLong();
    private volatile boolean lastOk = true;

    public MeasuredSender(OtlpSender delegate) {
        this.delegate = delegate;
    }

    public void listener(Listener l) {
        this.listener = l;
    }

    @Override
    public void send(ExportProfilesServiceRequest request) throws ExportException {
        long t0 = System.nanoTime();
        boolean ok = false;
        try {
            delegate.send(request);
            ok = true;
        } catch (ExportException | RuntimeException e) {
            lastError.set(e.getMessage());
            throw e;
        } finally {
            attempts.incrementAndGet();
            lastOk = ok;
            listener.attempt(System.nanoTime() - t0, ok);
        }
    }

    /** True until an attempt fails, and again after the next success. */
    public boolean lastAttemptOk() {
        return lastOk;
    }

    public String lastError() {
        return lastError.get();
    }

    public long attempts() {
        return attempts.get();
    }

    @Override
    public long rejectedProfiles() {
        return delegate.rejectedProfiles();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
