package io.moonwalk.containment;

/**
 * Where a contained fault happened: the {@code stage} label of {@code moonwalk_contained_failures_total}, and the
 * name a test uses to inject a fault there (see {@link Faults}).
 */
public enum Stage {
    /** Syncing a process's maps before sampling starts (whole host or the --pid targets). */
    PRESYNC("presync"),
    /** Handling one ring-buffer record on the drain thread. */
    DRAIN("drain"),
    /** Syncing one process's maps on the map-sync thread. */
    MAP_SYNC("map_sync"),
    /** Reading one process's LuaJIT VMs and mcode areas on the JIT-sync thread. */
    JIT_SYNC("jit_sync"),
    /** Reading one Lua frame's protos on the prefetch thread. */
    PROTO_PREFETCH("proto_prefetch"),
    /** Naming one window's frames on the window thread. */
    WINDOW("window"),
    /** Handing one named window to a sink (OTLP export queue, local store) on the window thread. */
    WINDOW_SINK("window_sink"),
    /** One OTLP metrics push. */
    METRICS_PUSH("metrics_push");

    private final String label;

    Stage(String label) {
        this.label = label;
    }

    /** The metric label value and the injection name. */
    public String label() {
        return label;
    }

    /** The stage called {@code label}, or null. */
    public static Stage of(String label) {
        for (Stage s : values()) {
            if (s.label.equals(label)) {
                return s;
            }
        }
        return null;
    }
}
