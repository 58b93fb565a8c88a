package io.moonwalk.agent.daemon;

import io.moonwalk.agent.export.otlp.OtlpExporter;
import io.moonwalk.agent.profile.Profile;
import java.time.Duration;
import java.util.List;

/**
 * Windows go to an OTLP receiver through the asynchronous, byte-bounded {@link OtlpExporter}; a window with JIT trace
 * aborts sends them as a second request, a {@code trace_aborts} profile ({@link AbortProfile}).
 */
public final class OtlpSink implements WindowSink {
    private static final System.Logger LOG = System.getLogger(OtlpSink.class.getName());

    private final OtlpExporter exporter;
    private final MeasuredSender sender;
    private final String endpoint;

    public OtlpSink(OtlpExporter exporter, MeasuredSender sender, String endpoint) {
        this.exporter = exporter;
        this.sender = sender;
        this.endpoint = endpoint;
    }

    @Override
    public String name() {
        return "otlp";
    }

    /** The CPU, off-CPU and mmap event profiles in one request; the window's trace aborts, if any, in a second. */
    @Override
    public void accept(Window w) {
        Profile window = w.cpu();
        List<Profile> profiles = new java.util.ArrayList<>(List.of(window));
        if (w.offCpu() != null) {
            profiles.add(w.offCpu());
        }
        if (w.mmap() != null) {
            profiles.add(w.mmap());
        }
        exporter.offer(profiles);
        Profile aborts = AbortProfile.of(window, w.sites());
        if (aborts != null) {
            exporter.offer(aborts);
        }
    }

    @Override
    public boolean healthy() {
        return sender.lastAttemptOk();
    }

    @Override
    public String status() {
        if (sender.lastAttemptOk()) {
            return "otlp: exporting to " + endpoint + " (" + exporter.sentRequests() + " requests sent)";
        }
        return "otlp: last export to " + endpoint + " failed: " + sender.lastError();
    }

    @Override
    public void finish(Duration timeout) {
        if (!exporter.flush(timeout)) {
            LOG.log(System.Logger.Level.WARNING, "OTLP export did not drain within {0} ms; {1} request(s) dropped",
                    timeout.toMillis(), exporter.queuedRequests() + 1);
        }
        exporter.close();
    }

    public OtlpExporter exporter() {
        return exporter;
    }
}
