package io.moonwalk.agent.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import io.moonwalk.agent.ffi.libbpf.libbpf_print_fn_t;
import io.moonwalk.agent.ffi.libc.libc_h;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

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
        private final ArrayDeque<String> lines = new ArrayDeque<>();
        private boolean verifierLog;

        void add(String message) {
            verifierLog |= message.contains("PROG LOAD LOG");
            for (String line : message.split("\n")) {
                if (!line.isBlank()) {
                    if (lines.size() == MAX_LINES) {
                        lines.removeFirst();
                    }
                    lines.addLast(line);
                }
            }
        }

        /** True once libbpf passed on a verifier log: the kernel ran the verifier and refused a program. */
        boolean sawVerifierLog() {
            return verifierLog;
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
