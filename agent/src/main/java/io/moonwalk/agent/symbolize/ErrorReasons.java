package io.moonwalk.agent.symbolize;

/** Human text for the unwinder's error reasons (enum mw_error_reason in bpf/src/moonwalk.h). */
final class ErrorReasons {
    private ErrorReasons() {
    }

    static String describe(int reason) {
        return switch (reason) {
            case 1 -> "user stack";
            case 2 -> "depth limit";
            case 3 -> "no mapping";
            case 4 -> "no unwind info";
            case 5 -> "read fault";
            case 6 -> "kernel stack";
            case 7 -> "process not synced";
            case 8 -> "bad CFA";
            default -> "reason " + reason;
        };
    }
}
