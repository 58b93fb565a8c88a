package io.moonwalk.agent.daemon;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Heartbeats;
import io.moonwalk.containment.Stage;
import io.moonwalk.agent.profile.Profile;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Hands finished windows from the drain thread to the sinks on a thread of its own, so encoding,
 * disk writes and slow sinks never delay draining the kernel's ring buffer. The hand-off holds at
 * most {@value #QUEUE_WINDOWS} windows; when the sinks fall that far behind, new windows are dropped
 * and counted rather than queued without bound.
 */
public final class WindowWorker {
    static final int QUEUE_WINDOWS = 4;
    private static final Window END = new Window(new Profile(0, 0, 1, List.of()), null, null, List.of());

    private final BlockingQueue<Window> queue = new ArrayBlockingQueue<>(QUEUE_WINDOWS + 1);
    private final List<WindowSink> sinks;
    private final Consumer<Profile> observer;
    private final Thread thread;
    private final Heartbeats.Beat beat;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong droppedWindows = new AtomicLong();
    private final AtomicLong droppedSamples = new AtomicLong();
    private final AtomicLong sinkFailures = new AtomicLong();
    private volatile boolean ending;

    /**
     * @param observer sees every window before the sinks (metrics), on the worker thread
     */
    public WindowWorker(List<WindowSink> sinks, Consumer<Profile> observer) {
        this.sinks = List.copyOf(sinks);
        this.observer = observer;
        this.thread = Thread.ofPlatform().name("moonwalk-windows").daemon(true).unstarted(this::run);
        this.beat = Heartbeats.register("moonwalk-windows", thread);
        thread.start();
    }

    /** Queues a window; returns at once. False (and counted) when the sinks are too far behind. */
    public boolean offer(Window window) {
        if (ending || queue.remainingCapacity() <= 1 || !queue.offer(window)) {
            droppedWindows.incrementAndGet();
            droppedSamples.addAndGet(window.cpu().totalSamples());
            return false;
        }
        return true;
    }

    private void run() {
        long windows = 0;
        while (true) {
            Window w;
            beat.beat();
            try {
                w = queue.poll(Heartbeats.BEAT_NANOS, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (w == null) {
                continue;
            }
            if (w == END) {
                return;
            }
            Profile p = w.cpu();
            windows++;
            try {
                observer.accept(p);
            } catch (RuntimeException | Error e) {
                Faults.contained(Stage.WINDOW_SINK, "the metrics of window " + windows, e);
            }
            for (WindowSink s : sinks) {
                try {
                    Faults.inject(Stage.WINDOW_SINK, windows);
                    s.accept(w);
                } catch (Exception | Error e) {
                    // one sink's failure (a full disk, a bug) must cost neither the other sinks nor later windows
                    sinkFailures.incrementAndGet();
                    Faults.contained(Stage.WINDOW_SINK, "handing window " + windows + " to the " + s.name() + " sink", e);
                }
            }
            delivered.incrementAndGet();
        }
    }

    /**
     * Processes the windows already queued, then lets every sink finish; all within {@code timeout}
     * (the time left after the worker is given to the sinks).
     */
    public void finish(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        ending = true;
        beat.close();
        queue.offer(END); // room is always left for it
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread.interrupt();
        for (WindowSink s : sinks) {
            long left = Math.max(0, deadline - System.nanoTime());
            s.finish(Duration.ofNanos(left));
        }
    }

    public long deliveredWindows() {
        return delivered.get();
    }

    public long droppedWindows() {
        return droppedWindows.get();
    }

    public long droppedSamples() {
        return droppedSamples.get();
    }

    public long sinkFailures() {
        return sinkFailures.get();
    }

    public List<WindowSink> sinks() {
        return sinks;
    }

    public int queued() {
        return queue.size();
    }

}
