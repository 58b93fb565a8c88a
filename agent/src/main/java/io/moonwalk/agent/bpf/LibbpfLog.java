package io.moonwalk.agent.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import io.moonwalk.agent.ffi.libbpf.libbpf_print_fn_t;
import io.moonwalk.agent.ffi.libc.libc_h;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Routes libbpf's print callback to System.Logger ("io.moonwalk.agent.bpf.libbpf") and, while a
 * {@link Capture} is open on the calling thread, keeps the tail of libbpf's warnings (the verifier
 * log arrives as one warning) so a load failure can quote it.
 */
final class LibbpfLog {
    private static final System.Logger LOG = System.getLogger("io.moonwalk.agent.bpf.libbpf");
    private static final ThreadLocal<Capture> CAPTURE = new ThreadLocal<>();
    private static boolean installed;

    private LibbpfLog() {}

    static synchronized void install() {
        if (!installed) {
            // global arena: libbpf keeps the pointer for the life of the process
            libbpf_h.libbpf_set_print(libbpf_print_fn_t.allocate(LibbpfLog::print, Arena.global()));
            installed = true;
        }
    }

    /** Keeps libbpf warnings printed on this thread until closed. */
    static Capture capture() {
        Capture c = new Capture();
        CAPTURE.set(c);
        return c;
    }

    static final class Capture implements AutoCloseable {
        private static final int MAX_LINES = 40;
        private static final String BEGIN = "-- BEGIN PROG LOAD LOG --";
        private static final String END = "-- END PROG LOAD LOG --";
        /** A verifier trace line: {@code 8: (61) r6 = *(u32 *)(r0 +5000)} */
        private static final Pattern INSTRUCTION = Pattern.compile("\\d+: \\(");
        private final ArrayDeque<String> lines = new ArrayDeque<>();
        private boolean verifierLog;
        private String rejectedProgram;
        private String verifierReason;

        void add(String message) {
            int begin = message.indexOf(BEGIN);
            if (begin >= 0) {
                verifierLog = true;
                readVerifierLog(message, begin);
            }
            for (String line : message.split("\n")) {
                if (!line.isBlank()) {
                    if (lines.size() == MAX_LINES) {
                        lines.removeFirst();
                    }
                    lines.addLast(line);
                }
            }
        }

        /**
         * libbpf passes a refused program's log as one message: {@code prog 'NAME': -- BEGIN PROG LOAD LOG --},
         * the verifier's lines, {@code -- END PROG LOAD LOG --}. The verifier ends with its reason, then
         * statistics; the first program's reason is kept (libbpf stops at the first refusal).
         */
        private void readVerifierLog(String message, int begin) {
            if (rejectedProgram != null) {
                return;
            }
            int quote = message.lastIndexOf("prog '", begin);
            if (quote >= 0) {
                int close = message.indexOf('\'', quote + 6);
                if (close > quote) {
                    rejectedProgram = message.substring(quote + 6, close);
                }
            }
            int end = message.indexOf(END, begin);
            String body = message.substring(begin + BEGIN.length(), end < 0 ? message.length() : end);
            // the reason: the lines after the last instruction the verifier printed, statistics left out
            // (e.g. "invalid access to map value, value_size=4160 off=5000 size=4; R0 min value is outside ...")
            String[] bodyLines = body.split("\n");
            List<String> reason = new ArrayList<>();
            for (int i = bodyLines.length - 1; i >= 0 && reason.size() < 3; i--) {
                String l = bodyLines[i].strip();
                if (l.isEmpty() || isStatistics(l)) {
                    continue;
                }
                if (INSTRUCTION.matcher(l).lookingAt() || l.startsWith(";")) {
                    break;
                }
                reason.addFirst(l);
            }
            if (!reason.isEmpty()) {
                String r = String.join("; ", reason);
                verifierReason = r.length() > 400 ? r.substring(0, 400) + "..." : r;
            }
        }

        private static boolean isStatistics(String line) {
            return line.startsWith("processed ") || line.startsWith("verification time")
                    || line.startsWith("stack depth") || line.startsWith("mark_precise")
                    || line.startsWith("Func#") || line.startsWith("func#");
        }

        /** True once libbpf passed on a verifier log: the kernel ran the verifier and refused a program. */
        boolean sawVerifierLog() {
            return verifierLog;
        }

        /** The program the verifier refused, or null. */
        String rejectedProgram() {
            return rejectedProgram;
        }

        /** The verifier's last line before its statistics (its reason), or null. */
        String verifierReason() {
            return verifierReason;
        }

        /** The last warning lines, newline-separated; empty if libbpf warned about nothing. */
        String tail() {
            return String.join("\n", lines);
        }

        @Override
        public void close() {
            CAPTURE.remove();
        }
    }

    private static int print(int level, MemorySegment fmt, MemorySegment ap) {
        try {
            boolean warning = level == libbpf_h.LIBBPF_WARN();
            Level l = warning ? Level.WARNING : level == libbpf_h.LIBBPF_INFO() ? Level.DEBUG : Level.TRACE;
            Capture capture = warning ? CAPTURE.get() : null;
            if (capture == null && !LOG.isLoggable(l)) {
                return 0; // skip formatting libbpf's chatty debug output
            }
            String message = format(fmt, ap);
            if (capture != null) {
                capture.add(message);
            }
            LOG.log(l, message.stripTrailing());
        } catch (Throwable t) {
            // an exception leaving an upcall kills the JVM
            try {
                LOG.log(Level.ERROR, "formatting a libbpf message failed", t);
            } catch (Throwable ignored) {
                // nothing left to report to
            }
        }
        return 0;
    }

    private static String format(MemorySegment fmt, MemorySegment ap) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment strp = arena.allocate(ADDRESS);
            int n = libc_h.vasprintf(strp, fmt, ap);
            if (n < 0) {
                return fmt.reinterpret(Integer.MAX_VALUE).getString(0);
            }
            MemorySegment s = strp.get(ADDRESS, 0);
            try {
                return s.reinterpret(n + 1L).getString(0);
            } finally {
                libc_h.free(s);
            }
        }
    }
}
