package io.moonwalk.agent.metrics;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Takes over the OpenTelemetry SDK exporters' java.util.logging output: the SDK logs every failed
 * export (throttled, but many times per outage) and partial successes; the agent logs a failing push
 * once per outage instead, quoting the SDK's reason, which this handler keeps.
 */
final class SdkExportLog extends Handler {
    /** Parent of the SDK's gRPC and HTTP exporter loggers. */
    static final String LOGGER = "io.opentelemetry.exporter";

    private static final SdkExportLog INSTANCE = new SdkExportLog();
    // held strongly: java.util.logging keeps loggers only weakly, and a collected logger loses its handler
    private static final Logger SDK = Logger.getLogger(LOGGER);

    private volatile String last;

    static synchronized SdkExportLog install() {
        if (!java.util.Arrays.asList(SDK.getHandlers()).contains(INSTANCE)) {
            SDK.setUseParentHandlers(false);
            SDK.addHandler(INSTANCE);
        }
        return INSTANCE;
    }

    /** The SDK's last warning since {@link #clear()}, or null. */
    String last() {
        return last;
    }

    void clear() {
        last = null;
    }

    @Override
    public void publish(LogRecord r) {
        if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
            String msg = r.getMessage();
            if (r.getThrown() != null) {
                msg = msg + ": " + r.getThrown();
            }
            last = msg;
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
