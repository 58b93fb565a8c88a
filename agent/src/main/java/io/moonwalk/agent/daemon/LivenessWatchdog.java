package io.moonwalk.agent.daemon;

import java.util.concurrent.TimeUnit;

/**
 * Ends a wedged agent so its supervisor restarts it: checks {@link Readiness#live()} every
 * {@value #CHECK_SECONDS} s and, once it has failed for {@value #GRACE_SECONDS} s in a row, logs the reasons and
 * halts the JVM with {@link #EXIT_WEDGED}. The kubelet's liveness probe would restart the pod on the failing
 * {@code /healthz} anyway; under systemd (no probe) this is what turns a wedged agent into a restart
 * ({@code Restart=on-failure}). {@code halt}, not {@code exit}: a wedged loop may never let shutdown hooks finish;
 * the kernel detaches the BPF programs when the process's descriptors close.
 */
public final class LivenessWatchdog {
    /** The exit code of an agent ended because it was wedged (the unit restarts on it). */
    public static final int EXIT_WEDGED = 6;
    static final long CHECK_SECONDS = 5;
    static final long GRACE_SECONDS = 15;
    private static final System.Logger LOG = System.getLogger(LivenessWatchdog.class.getName());

    private LivenessWatchdog() {
    }

    /** Starts the watchdog thread (a daemon: it never keeps the JVM alive). */
    public static void start(Readiness readiness) {
        Thread.ofPlatform().name("moonwalk-liveness").daemon(true).start(() -> watch(readiness));
    }

    private static void watch(Readiness readiness) {
        long failingSince = 0;
        while (true) {
            try {
                TimeUnit.SECONDS.sleep(CHECK_SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            Readiness.Result r;
            try {
                r = readiness.live();
            } catch (RuntimeException e) {
                continue; // a check that fails to run is not evidence of a wedge
            }
            if (r.ready()) {
                failingSince = 0;
                continue;
            }
            long now = System.nanoTime();
            if (failingSince == 0) {
                failingSince = now;
                LOG.log(System.Logger.Level.WARNING, "the agent looks wedged; exiting in " + GRACE_SECONDS
                        + " s unless it recovers:\n" + r.text());
            } else if (now - failingSince >= TimeUnit.SECONDS.toNanos(GRACE_SECONDS)) {
                System.err.print("moonwalk: the agent is wedged; exiting with code " + EXIT_WEDGED
                        + " so that it is restarted:\n" + r.text());
                System.err.flush();
                Runtime.getRuntime().halt(EXIT_WEDGED);
            }
        }
    }
}
