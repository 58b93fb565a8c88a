package io.moonwalk.agent.export.otlp;

import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesPartialSuccess;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts profiles a receiver rejected through {@code partial_success} and logs each distinct
 * receiver message once, so a receiver that rejects every request does not flood the log.
 */
final class PartialSuccessLog {

    private static final System.Logger LOG = System.getLogger(PartialSuccessLog.class.getName());
    /** Distinct messages remembered; beyond this nothing more is logged (the count still grows). */
    private static final int MAX_MESSAGES = 32;

    private final String endpoint;
    private final AtomicLong rejected = new AtomicLong();
    private final Set<String> logged = new HashSet<>();

    PartialSuccessLog(String endpoint) {
        this.endpoint = endpoint;
    }

    void record(ExportProfilesPartialSuccess ps) {
        if (ps.getRejectedProfiles() > 0) {
            rejected.addAndGet(ps.getRejectedProfiles());
        }
        String message = ps.getErrorMessage();
        if (message.isEmpty() && ps.getRejectedProfiles() <= 0) {
            return;
        }
        boolean first;
        synchronized (logged) {
            first = logged.size() < MAX_MESSAGES && logged.add(message);
        }
        if (first) {
            LOG.log(System.Logger.Level.WARNING, "OTLP receiver {0} rejected {1} profile(s): {2}"
                    + " (logged once per distinct message)", endpoint, ps.getRejectedProfiles(),
                    message.isEmpty() ? "<no message>" : message);
        }
    }

    long rejected() {
        return rejected.get();
    }
}
