package io.moonwalk.agent.log;

import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Routes System.Logger / java.util.logging to stderr as one line per record
 * ({@code moonwalk: LEVEL logger: message}). The level comes from {@code MOONWALK_LOG_LEVEL}
 * (SEVERE, WARNING, INFO, FINE; default WARNING) so a one-off {@code record} stays quiet.
 */
public final class ConsoleLogging {
    private ConsoleLogging() {
    }

    public static void install() {
        String configured = System.getenv("MOONWALK_LOG_LEVEL");
        Level level;
        try {
            level = configured == null ? Level.WARNING : Level.parse(configured.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            level = Level.WARNING;
        }
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler handler = new ConsoleHandler();
        handler.setLevel(level);
        handler.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String name = r.getLoggerName() == null ? "" : r.getLoggerName();
                String shortName = name.substring(name.lastIndexOf('.') + 1);
                String msg = formatMessage(r);
                if (r.getThrown() != null) {
                    msg += " (" + r.getThrown() + ")";
                }
                return "moonwalk: " + r.getLevel().getName().toLowerCase(Locale.ROOT) + " " + shortName + ": "
                        + msg.replace('\n', ' ') + System.lineSeparator();
            }
        });
        root.addHandler(handler);
        root.setLevel(level);
    }
}
