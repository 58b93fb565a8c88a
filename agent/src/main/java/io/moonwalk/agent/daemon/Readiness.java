package io.moonwalk.agent.daemon;

import io.moonwalk.agent.session.SessionStats;
import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Heartbeats;
import io.moonwalk.containment.Stage;
import java.util.concurrent.TimeUnit;

/**
 * {@code /readyz} and {@code /healthz}.
 *
 * <p>Ready ({@link #check()}) while the sampler is attached, its ring buffer was drained within
 * {@link #MAX_DRAIN_AGE_NANOS}, every worker thread is alive and beat within {@link #READY_QUIET_NANOS}, and every
 * sink's last delivery (export attempt or store write) succeeded. Each failing check is one line naming the reason.
 *
 * <p>Alive ({@link #live()}) unless the agent is wedged: a worker thread died, a worker has not beaten for
 * {@link #LIVE_QUIET_NANOS}, or the attached sampler's drain has not run for {@link #LIVE_QUIET_NANOS}. A failing
 * {@code /healthz} makes the kubelet (liveness probe) or the unit's watchdog restart the agent; a failing sink
 * (receiver down, disk full) is not a reason to restart and only fails {@code /readyz}.
 */
public final class Readiness {
    /** The drain runs every 200 ms (every second while nothing arrives); this much silence means the loop is stuck. */
    static final long MAX_DRAIN_AGE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Workers beat at least every second; this much silence makes the agent unready. */
    static final long READY_QUIET_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** This much silence of a worker or of the drain means the agent is wedged: {@code /healthz} fails. */
    static final long LIVE_QUIET_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** The verdict and one line per check. */
    public record Result(boolean ready, String text) {
    }

    private final Agent agent;

    public Readiness(Agent agent) {
        this.agent = agent;
    }

    public Result check() {
        StringBuilder sb = new StringBuilder();
        boolean ok = true;
        SessionStats stats = agent.stats();
        if (stats.attached()) {
            sb.append("sampler: attached\n");
        } else {
            ok = false;
            sb.append("sampler: not attached\n");
        }
        long drained = stats.drainedAtNanos();
        long age = drained == 0 ? Long.MAX_VALUE : System.nanoTime() - drained;
        if (age > MAX_DRAIN_AGE_NANOS) {
            ok = false;
            sb.append("drain: no ring-buffer drain for ")
                    .append(age == Long.MAX_VALUE ? "ever" : TimeUnit.NANOSECONDS.toMillis(age) + " ms").append('\n');
        } else {
            sb.append("drain: ").append(TimeUnit.NANOSECONDS.toMillis(age)).append(" ms ago\n");
        }
        ok &= workers(sb, READY_QUIET_NANOS);
        for (WindowSink s : agent.worker().sinks()) {
            ok &= s.healthy();
            sb.append(s.status()).append('\n');
        }
        failures(sb);
        return new Result(ok, (ok ? "ready\n" : "not ready\n") + sb);
    }

    public Result live() {
        StringBuilder sb = new StringBuilder();
        boolean ok = workers(sb, LIVE_QUIET_NANOS);
        SessionStats stats = agent.stats();
        long drained = stats.drainedAtNanos();
        // before the first drain (loading, pre-sync) and after detach the loop is not expected to drain
        if (stats.attached() && drained != 0 && System.nanoTime() - drained > LIVE_QUIET_NANOS) {
            ok = false;
            sb.append("drain: wedged, no ring-buffer drain for ")
                    .append(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - drained)).append(" ms\n");
        }
        failures(sb);
        return new Result(ok, (ok ? "ok\n" : "wedged\n") + sb);
    }

    /** One line per worker; false when one is dead or has been quiet for more than {@code maxQuiet}. */
    private static boolean workers(StringBuilder sb, long maxQuiet) {
        boolean ok = true;
        for (Heartbeats.Beat b : Heartbeats.workers()) {
            long quiet = b.quietNanos();
            if (!b.alive()) {
                ok = false;
                sb.append("worker ").append(b.name()).append(": dead (the thread ended; see the log)\n");
            } else if (quiet > maxQuiet) {
                ok = false;
                sb.append("worker ").append(b.name()).append(": stalled, no heartbeat for ")
                        .append(TimeUnit.NANOSECONDS.toMillis(quiet)).append(" ms\n");
            } else {
                sb.append("worker ").append(b.name()).append(": alive\n");
            }
        }
        return ok;
    }

    private static void failures(StringBuilder sb) {
        for (Stage s : Stage.values()) {
            long n = Faults.count(s);
            if (n > 0) {
                sb.append("contained failures in ").append(s.label()).append(": ").append(n).append('\n');
            }
        }
    }
}
