package io.moonwalk.containment;

import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts the faults the agent's threads contain, one counter per {@link Stage}, process-wide (one agent per JVM),
 * and logs them without flooding: the first {@value #LOGGED_PER_STAGE} of each stage with their stack trace, then
 * every {@value #LOG_EVERY}th as one line. {@link OutOfMemoryError} is never contained: the JVM runs with
 * {@code -XX:+ExitOnOutOfMemoryError} and ends before a handler sees it; should it reach one anyway, it is
 * rethrown.
 *
 * <p>Test-only fault injection: the system property {@value #INJECT_PROPERTY}, read once when this class loads,
 * holds {@code stage:kind:target} — {@code stage} a {@link Stage#label()}, {@code kind} {@code error} (throws an
 * {@link InjectedError}), {@code runtime} (an {@link IllegalStateException}), {@code stall} (the thread sleeps for
 * {@value #STALL_MILLIS} ms, once) or {@code escape} (an {@link InjectedError} that the stage's containment lets
 * through, so the thread dies: how a bug outside the contained part looks) or {@code oom} (fills the heap until the
 * JVM runs out of memory: a launcher's {@code -XX:+ExitOnOutOfMemoryError} then ends it with code 3); {@code target}
 * a process id, a window
 * ordinal (1 = the first window), or {@code *} (every call). Unset in production: {@link #inject} is then one
 * field read.
 */
public final class Faults {
    public static final String INJECT_PROPERTY = "moonwalk.test.inject-fault";
    static final int LOGGED_PER_STAGE = 10;
    static final long LOG_EVERY = 1000;
    static final long STALL_MILLIS = 3_600_000L;
    private static final System.Logger LOG = System.getLogger(Faults.class.getName());
    private static final AtomicLongArray COUNTS = new AtomicLongArray(Stage.values().length);
    private static final Injection INJECTION = Injection.parse(System.getProperty(INJECT_PROPERTY));

    /** A fault raised on purpose by {@link #inject}; an {@link Error}, as the worst a stage can meet. */
    public static final class InjectedError extends Error {
        private final boolean escapes;

        InjectedError(String message, boolean escapes) {
            super(message);
            this.escapes = escapes;
        }

        /** True when containment must let it pass (the test wants the thread to die). */
        public boolean escapes() {
            return escapes;
        }
    }

    private record Injection(Stage stage, String kind, long target) {
        static Injection parse(String spec) {
            if (spec == null || spec.isBlank()) {
                return null;
            }
            String[] p = spec.split(":");
            Stage s = p.length == 3 ? Stage.of(p[0]) : null;
            if (s == null || !java.util.Set.of("error", "runtime", "stall", "escape", "oom").contains(p[1])) {
                throw new IllegalArgumentException(INJECT_PROPERTY + "=" + spec
                        + ": expected stage:kind:target (kind error|runtime|stall|escape|oom, target a number or *)");
            }
            return new Injection(s, p[1], p[2].equals("*") ? -1 : Long.parseLong(p[2]));
        }
    }

    private static volatile boolean stalled;

    private Faults() {
    }

    /**
     * Test hook: throws or stalls as {@value #INJECT_PROPERTY} asks when {@code stage} handles {@code target} (a pid
     * or a window ordinal). Does nothing when the property is unset.
     */
    public static void inject(Stage stage, long target) {
        Injection in = INJECTION;
        if (in == null || in.stage != stage || (in.target != -1 && in.target != target)) {
            return;
        }
        String what = "injected " + in.kind + " in stage " + stage.label() + " at " + target;
        switch (in.kind) {
            case "runtime" -> throw new IllegalStateException(what);
            case "oom" -> {
                LOG.log(Level.WARNING, what + ": filling the heap");
                java.util.List<long[]> hog = new java.util.ArrayList<>();
                while (hog.size() >= 0) { // ends with an OutOfMemoryError (the heap is bounded)
                    hog.add(new long[1 << 17]);
                }
            }
            case "stall" -> {
                if (stalled) {
                    return;
                }
                stalled = true;
                LOG.log(Level.WARNING, what + ": sleeping");
                try {
                    Thread.sleep(STALL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            default -> throw new InjectedError(what, in.kind.equals("escape"));
        }
    }

    /**
     * A stage met {@code failure} while handling {@code what} (e.g. "pid 1234"): counts and logs it, and returns so
     * the caller's loop goes on. Rethrows an {@link OutOfMemoryError} and an injected escaping error.
     */
    public static void contained(Stage stage, String what, Throwable failure) {
        if (failure instanceof OutOfMemoryError oom) {
            throw oom;
        }
        if (failure instanceof InjectedError ie && ie.escapes()) {
            throw ie;
        }
        long n = COUNTS.incrementAndGet(stage.ordinal());
        if (n <= LOGGED_PER_STAGE) {
            LOG.log(Level.WARNING, stage.label() + ": " + what + " failed; carrying on", failure);
        } else if (n % LOG_EVERY == 0) {
            LOG.log(Level.WARNING, stage.label() + ": " + what + " failed (" + n + " failures so far): " + failure);
        }
    }

    /** Faults contained in {@code stage} since the JVM started. */
    public static long count(Stage stage) {
        return COUNTS.get(stage.ordinal());
    }
}
