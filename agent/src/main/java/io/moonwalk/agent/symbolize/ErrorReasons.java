package io.moonwalk.agent.symbolize;

import io.moonwalk.bpf.layout.RecordLayout;

/** Human text for the core unwinder's error reasons (enum mw_error_reason in bpf/src/moonwalk.h); null for others. */
final class ErrorReasons {
    private ErrorReasons() {
    }

    static String describe(int reason) {
        return switch (reason) {
            case RecordLayout.ERR_USER_STACK_FAILED -> "user stack";
            case RecordLayout.ERR_DEPTH_LIMIT -> "depth limit";
            case RecordLayout.ERR_NO_MAPPING -> "no mapping";
            case RecordLayout.ERR_NO_UNWIND_INFO -> "no unwind info";
            case RecordLayout.ERR_READ_FAULT -> "read fault";
            case RecordLayout.ERR_KERNEL_STACK_FAILED -> "kernel stack";
            case RecordLayout.ERR_PROCESS_NOT_SYNCED -> "process not synced";
            case RecordLayout.ERR_BAD_CFA -> "bad CFA";
            case RecordLayout.ERR_UNSUPPORTED_CFI -> "unsupported CFI";
            case RecordLayout.ERR_WALKER_UNAVAILABLE -> "walker unavailable";
            default -> null; // an interpreter walker's reason: its plugin describes it
        };
    }
}
