package io.moonwalk.interpreter;

import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.frame.Frame;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable snapshot of one plugin's figures: the meters it wants exported (the core registers one meter per
 * distinct name and tag set, and removes series that leave the snapshot, so per-process series stay bounded by
 * what the plugin reports) and the lines it adds to {@code record}'s summary.
 *
 * @param interpreter the plugin's name
 * @param values      the meters' current values
 * @param summary     lines for the record summary (without indentation or line breaks)
 * @param mapFill     fill of the kernel maps the plugin writes (exported with the core's maps)
 * @param windowSites events the plugin counted at code sites in the last closed window (e.g. trace aborts), at
 *                    most a few dozen: the core keeps them with the window and exports them as a profile of
 *                    their own
 */
public record InterpreterStats(String interpreter, List<Measurement> values, List<String> summary,
                               List<MapFill> mapFill, List<SiteCount> windowSites) {
    public InterpreterStats {
        values = List.copyOf(values);
        summary = List.copyOf(summary);
        mapFill = List.copyOf(mapFill);
        windowSites = List.copyOf(windowSites);
    }

    public InterpreterStats(String interpreter, List<Measurement> values, List<String> summary,
                            List<MapFill> mapFill) {
        this(interpreter, values, summary, mapFill, List.of());
    }

    public static InterpreterStats empty(String interpreter) {
        return new InterpreterStats(interpreter, List.of(), List.of(), List.of());
    }

    /**
     * How often an event happened at one code site of one process within one window.
     *
     * @param event  what was counted, a sample type name ({@code trace_aborts})
     * @param pid    the process
     * @param frame  the site, as a frame of the process (a Lua frame {@code function (chunk:line)})
     * @param labels bounded labels of the count ({@code luajit.vm}, {@code luajit.abort_reason})
     * @param count  events in the window
     */
    public record SiteCount(String event, int pid, Frame frame, Map<String, String> labels, long count) {
        public SiteCount {
            Objects.requireNonNull(event, "event");
            Objects.requireNonNull(frame, "frame");
            labels = Map.copyOf(labels);
        }
    }

    /** Whether a meter only goes up (a counter) or is a level (a gauge). */
    public enum Type { COUNTER, GAUGE }

    /**
     * One meter's value.
     *
     * @param name        dotted meter name ({@code moonwalk.luajit.traces}); exported as {@code moonwalk_luajit_traces}
     * @param description the meter's help text
     * @param type        counter or gauge
     * @param tags        the series' labels (bounded by the plugin)
     * @param value       the value now
     */
    public record Measurement(String name, String description, Type type, Map<String, String> tags, double value) {
        public Measurement {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(description, "description");
            Objects.requireNonNull(type, "type");
            tags = Map.copyOf(tags);
        }

        public static Measurement counter(String name, String description, Map<String, String> tags, double value) {
            return new Measurement(name, description, Type.COUNTER, tags, value);
        }

        public static Measurement gauge(String name, String description, Map<String, String> tags, double value) {
            return new Measurement(name, description, Type.GAUGE, tags, value);
        }
    }
}
