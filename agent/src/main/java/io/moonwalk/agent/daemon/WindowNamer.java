package io.moonwalk.agent.daemon;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.session.Session;
import io.moonwalk.interpreter.InterpreterStats;
import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Heartbeats;
import io.moonwalk.containment.Stage;
import java.util.ArrayList;
import java.util.List;

/**
 * Closes and names windows on a thread of its own ({@code moonwalk-window-naming}), so the drain thread only
 * drains: at a window's end the drain thread calls {@link #cut()} and returns to the ring buffer. Naming runs
 * under the session's lock (the collector's tables and the plugins' drain-side state are not shared
 * concurrently), so a drain waits while a window is named, but a fault while naming is contained here: a stack
 * that fails gets an error frame ({@link Stage#WINDOW}), a window whose naming fails as a whole is dropped and
 * counted, and the next window starts clean. The named window goes to the {@link WindowWorker}'s sinks.
 */
final class WindowNamer implements AutoCloseable {
    private final Session session;
    private final WindowWorker worker;
    private final Agent.WindowListener listener;
    private final Thread thread;
    private final Heartbeats.Beat beat;
    private long startNanos; // guarded by this
    private long startEpochNanos; // guarded by this
    private long windows; // guarded by this
    private boolean requested; // guarded by this
    private boolean closed; // guarded by this

    WindowNamer(Session session, WindowWorker worker, Agent.WindowListener listener) {
        this.session = session;
        this.worker = worker;
        this.listener = listener;
        this.startNanos = System.nanoTime();
        this.startEpochNanos = System.currentTimeMillis() * 1_000_000L;
        this.thread = Thread.ofPlatform().name("moonwalk-window-naming").daemon(true).unstarted(this::run);
        this.beat = Heartbeats.register("moonwalk-window-naming", thread);
        thread.start();
    }

    /** The current window ends now; it is named on the namer's thread. Returns at once. Drain thread. */
    synchronized void cut() {
        requested = true;
        notifyAll();
    }

    private void run() {
        while (true) {
            synchronized (this) {
                while (!requested && !closed) {
                    beat.beat();
                    try {
                        wait(Heartbeats.BEAT_NANOS / 1_000_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (!requested) {
                    return;
                }
                requested = false;
            }
            beat.beat();
            Window p;
            try {
                p = name();
            } catch (RuntimeException | Error e) {
                Faults.contained(Stage.WINDOW, "naming a window", e); // an injected escape ends the thread here
                try {
                    session.abandonWindow();
                } catch (RuntimeException | Error again) {
                    Faults.contained(Stage.WINDOW, "dropping a window whose naming failed", again);
                }
                continue;
            }
            worker.offer(p);
        }
    }

    /** Names the window from its start until now and starts the next one. */
    private Window name() {
        long start;
        long startEpoch;
        long now = System.nanoTime();
        synchronized (this) {
            start = startNanos;
            startEpoch = startEpochNanos;
            startNanos = now;
            startEpochNanos = System.currentTimeMillis() * 1_000_000L;
            windows++;
        }
        Profile p = session.endWindow(startEpoch, now - start);
        Profile offCpu = session.lastOffCpuProfile(); // named by endWindow, for the same span
        // published by endWindow for this window; later stats carry the next window's (sinks may run late)
        List<InterpreterStats.SiteCount> sites = new ArrayList<>();
        for (InterpreterStats in : session.stats().interpreters()) {
            sites.addAll(in.windowSites());
        }
        listener.windowClosed(now - start, System.nanoTime() - now);
        return new Window(p, offCpu, session.lastMmapProfile(), sites);
    }

    /**
     * After {@link #close()}, on the caller's thread: names the last window (the session detached), or returns null
     * when that fails (counted).
     */
    Window nameLast() {
        try {
            return name();
        } catch (RuntimeException | Error e) {
            try {
                Faults.contained(Stage.WINDOW, "naming the last window", e);
            } catch (Faults.InjectedError escaped) {
                // a test's escape ends the namer thread, not the shutdown
            }
            return null;
        }
    }

    /** Windows named or attempted. */
    synchronized long windows() {
        return windows;
    }

    /** Names a window already requested, then stops the thread. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        beat.close();
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
