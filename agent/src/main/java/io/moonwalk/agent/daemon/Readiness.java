package io.moonwalk.agent.daemon;

import io.moonwalk.agent.session.SessionStats;
import java.util.concurrent.TimeUnit;

/**
 * {@code /readyz}: ready while the sampler is attached, its ring buffer was drained recently and
 * every sink's last delivery (export attempt or store write) succeeded.
 */
public final class Readiness {
    /** The drain runs every 200 ms; this much silence means the loop is stuck. */
    static final long MAX_DRAIN_AGE_NANOS = TimeUnit.SECONDS.toNanos(5);

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
        for (WindowSink s : agent.worker().sinks()) {
            ok &= s.healthy();
            sb.append(s.status()).append('\n');
        }
        return new Result(ok, (ok ? "ready\n" : "not ready\n") + sb);
    }
}
