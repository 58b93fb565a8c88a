package io.moonwalk.agent.daemon;

import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.session.Session;
import io.moonwalk.agent.session.SessionOptions;
import io.moonwalk.agent.session.SessionStats;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The continuous profiling loop: open a {@link Session}, drain it every {@value #DRAIN_MILLIS} ms ({@value #IDLE_DRAIN_MILLIS} ms after a drain that found nothing), cut a window
 * every interval (with jitter): the {@link WindowNamer} names it on its own thread and hands it to the
 * {@link WindowWorker}, until {@link #requestStop()}. On stop the BPF
 * programs are detached first, then the last window is delivered within the shutdown bound.
 *
 * <p>The loop thread owns the session; everything other threads read (metrics, health) is the session's
 * published {@link SessionStats} snapshot.
 */
public final class Agent {
    static final long DRAIN_MILLIS = 200;
    /**
     * After a drain that found nothing, the next one waits this long: an idle host (or idle targets) wakes the
     * drain thread once a second instead of five times, and the first busy second after idling fits the ring
     * buffer many times over. Below {@code Readiness.MAX_DRAIN_AGE_NANOS}.
     */
    static final long IDLE_DRAIN_MILLIS = 1000;

    private final AgentOptions options;
    private final WindowWorker worker;
    private final Semaphore stop = new Semaphore(0);
    private volatile boolean stopping;
    /** Set while the session is open, for {@link #detachNow()} and the stats. */
    private volatile Session session;
    /** The last snapshot of a closed session: its figures stay readable after detach. */
    private volatile SessionStats last = SessionStats.NONE;

    /** Observes each window's closing: its length and how long naming its frames took. */
    public interface WindowListener {
        void windowClosed(long durationNanos, long symbolizeNanos);
    }

    private volatile WindowListener windowListener = (d, s) -> { };

    public Agent(AgentOptions options, WindowWorker worker) {
        this.options = options;
        this.worker = worker;
    }

    public void windowListener(WindowListener l) {
        this.windowListener = l;
    }

    /** Asks the loop to finish; safe from signal handlers and any thread. */
    public void requestStop() {
        stopping = true;
        stop.release();
    }

    /** Detaches at once if still attached (shutdown-hook safety net when {@link #run} cannot finish). */
    public void detachNow() {
        Session s = session;
        if (s != null) {
            s.detachNow();
        }
    }

    /**
     * Runs until {@link #requestStop()}.
     *
     * @param onAttached called once the programs are attached
     */
    public void run(Runnable onAttached) {
        SamplerOptions so = new SamplerOptions(options.hz(), options.pids(), options.ringBufferBytes(), true,
                options.offCpuMinNanos(), options.mmapIntervalNanos());
        Window lastWindow;
        try (Session s = Session.open(SessionOptions.of(so, options.selector()))) {
            session = s;
            onAttached.run();
            WindowNamer namer = new WindowNamer(s, worker, (d, n) -> windowListener.windowClosed(d, n));
            long windowEnd = System.nanoTime() + options.nextWindowNanos(ThreadLocalRandom.current().nextDouble());
            int drained = 1;
            try {
                while (!stopping) {
                    long now = System.nanoTime();
                    long interval = TimeUnit.MILLISECONDS.toNanos(drained == 0 ? IDLE_DRAIN_MILLIS : DRAIN_MILLIS);
                    long wait = Math.min(interval, Math.max(0, windowEnd - now));
                    try {
                        if (stop.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
                            break;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                    drained = s.drain();
                    now = System.nanoTime();
                    if (now >= windowEnd) {
                        namer.cut(); // named on the namer's thread: this one goes back to draining
                        windowEnd = now + options.nextWindowNanos(ThreadLocalRandom.current().nextDouble());
                    }
                }
                s.drain();
            } finally {
                namer.close();
            }
            // the programs go before the last window is delivered: nothing is sampled after SIGTERM
            s.detach();
            lastWindow = namer.nameLast();
            last = s.stats();
        } finally {
            Session s = session;
            if (s != null) {
                last = s.stats();
            }
            session = null;
        }
        if (lastWindow != null) {
            worker.offer(lastWindow);
        }
        worker.finish(options.shutdownTimeout());
    }

    /** The session's latest snapshot ({@link SessionStats#NONE} before attach; the last one after). Any thread. */
    /** The mmap event probe's calls per LuaJIT process (pid -> mmap, munmap, mprotect, not walked); empty when off. */
    public java.util.Map<Integer, long[]> mmapCounts() {
        Session s = session;
        try {
            return s == null ? java.util.Map.of() : s.mmapCounts();
        } catch (IllegalStateException closed) {
            return java.util.Map.of();
        }
    }

    public SessionStats stats() {
        Session s = session;
        return s != null ? s.stats() : last;
    }

    public WindowWorker worker() {
        return worker;
    }

    public AgentOptions options() {
        return options;
    }
}
