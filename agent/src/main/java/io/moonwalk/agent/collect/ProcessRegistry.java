package io.moonwalk.agent.collect;

import io.moonwalk.process.ProcessStart;
import java.nio.file.Path;
import java.util.ArrayList;

import io.moonwalk.agent.profile.ProcessIdentity;
import io.moonwalk.process.ProcessInfo;
import io.moonwalk.symbolize.symbols.NativeSymbolizer;
import io.moonwalk.symbolize.symbols.ProcessSymbols;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The processes seen in samples. A process is captured (identity and an address-space snapshot)
 * at its first sample, while it is alive, so that its stacks can still be named after it exits.
 *
 * <p>A process that execs keeps its PID but not its address space: {@link #execed} retires the old
 * image's entry (it still names the stacks sampled before the exec until the window ends) and the
 * next sample captures the new image under the next image number.
 *
 * <p>Bounded: at most {@code maxProcesses} entries; exited processes are evicted first, then the
 * least recently sampled; at most {@code maxProcesses} retired images per window (the oldest
 * forgotten first: its stacks stay unnamed). Not thread-safe: owned by the drain thread.
 */
public final class ProcessRegistry {
    private final int maxProcesses;
    private final NativeSymbolizer symbolizer;
    private final Map<Integer, TrackedProcess> processes = new LinkedHashMap<>(64, 0.75f, true);
    /** Images replaced by an exec in this window, keyed by pid and image number. */
    private final Map<Long, TrackedProcess> retired = new LinkedHashMap<>();
    /** Image number for the next capture of a PID that exec'ed (absent: 0). */
    private final Map<Integer, Integer> nextImage = new java.util.HashMap<>();
    private long evictions;
    private long recycled;
    private final Path procRoot;

    public ProcessRegistry(NativeSymbolizer symbolizer, int maxProcesses) {
        this(symbolizer, maxProcesses, Path.of("/proc"));
    }

    /** @param procRoot where processes are read: /proc, or a core file's stand-in (replay) */
    public ProcessRegistry(NativeSymbolizer symbolizer, int maxProcesses, Path procRoot) {
        this.symbolizer = symbolizer;
        this.maxProcesses = maxProcesses;
        this.procRoot = procRoot;
    }

    /** One process: who it is and how to name addresses in it. */
    public static final class TrackedProcess {
        private final ProcessIdentity identity;
        private final int image;
        /** {@link ProcessStart#ticks} at capture: a different value later means the PID was recycled. */
        private final long startTicks;
        private ProcessSymbols symbols;
        private boolean exited;
        /** {@link #refresh} does nothing before this (System.nanoTime), see {@link #MIN_REFRESH_NANOS}. */
        private long nextRefreshNanos;
        private long refreshIntervalNanos;

        TrackedProcess(ProcessIdentity identity, int image, long startTicks, ProcessSymbols symbols) {
            this.identity = identity;
            this.image = image;
            this.startTicks = startTicks;
            this.symbols = symbols;
        }

        /** 0 for the image the process had when first seen, +1 per exec since. */
        public int image() {
            return image;
        }

        public ProcessIdentity identity() {
            return identity;
        }

        /** May be null when the process was gone before its maps could be read. */
        public ProcessSymbols symbols() {
            return symbols;
        }

        public boolean exited() {
            return exited;
        }
    }

    /**
     * Returns the process, capturing it on first sight.
     *
     * @param threadName the sampled thread's name, the fallback command for a process that is gone
     */
    public TrackedProcess get(int pid, String threadName) {
        TrackedProcess p = processes.get(pid);
        if (p != null && !p.exited) {
            return p;
        }
        if (p != null) {
            // a sample after the exit: the PID was recycled. The old entry keeps naming what was sampled
            // before (under its image number); the new process is captured as the next image.
            retire(p);
        }
        p = capture(pid, threadName);
        if (processes.size() >= maxProcesses) {
            evictOne();
        }
        processes.put(pid, p);
        return p;
    }

    /** Looks a process's current image up without capturing it. */
    public TrackedProcess find(int pid) {
        return processes.get(pid);
    }

    /** Looks up one image of a process: the current one or one replaced by an exec in this window. */
    public TrackedProcess find(int pid, int image) {
        TrackedProcess p = processes.get(pid);
        if (p != null && p.image == image) {
            return p;
        }
        return retired.get(retiredKey(pid, image));
    }

    /**
     * {@code pid} replaced its image (execve): the current entry keeps naming the stacks sampled before, and the
     * next {@link #get} captures the new image.
     */
    public void execed(int pid) {
        TrackedProcess p = processes.get(pid);
        if (p == null) {
            nextImage.merge(pid, 1, Integer::sum);
            return;
        }
        p.exited = true; // no refresh: /proc now shows the new image
        retire(p);
    }

    /** Moves the current entry of a PID to the retired images and makes the next capture the next image. */
    private void retire(TrackedProcess p) {
        int pid = p.identity.pid();
        processes.remove(pid);
        nextImage.put(pid, p.image + 1);
        if (retired.size() >= maxProcesses) {
            Iterator<TrackedProcess> it = retired.values().iterator();
            it.next();
            it.remove();
        }
        retired.put(retiredKey(pid, p.image), p);
    }

    private static long retiredKey(int pid, int image) {
        return ((long) pid << 32) | (image & 0xffffffffL);
    }

    private TrackedProcess capture(int pid, String threadName) {
        long start = ProcessStart.ticks(procRoot, pid);
        ProcessIdentity identity;
        try {
            ProcessInfo info = ProcessInfo.read(procRoot, pid);
            identity = new ProcessIdentity(pid, info.comm() == null ? threadName : info.comm(),
                    info.executable() == null ? "" : info.executable(),
                    info.containerId() == null ? "" : info.containerId());
        } catch (RuntimeException | java.io.IOException e) {
            identity = new ProcessIdentity(pid, threadName, "", "");
        }
        ProcessSymbols symbols;
        try {
            symbols = symbolizer.forProcess(pid);
        } catch (RuntimeException | java.io.IOException e) {
            symbols = null;
        }
        return new TrackedProcess(identity, nextImage.getOrDefault(pid, 0), start, symbols);
    }

    /** Earliest re-read of a process's maps after the previous one; doubled while re-reads find no new code. */
    static final long MIN_REFRESH_NANOS = 250_000_000L;
    static final long MAX_REFRESH_NANOS = 8_000_000_000L;

    /**
     * Re-reads a live process's maps, e.g. after an address fell outside every known mapping. Rate-limited per
     * process with a back-off: addresses in anonymous JIT code (JVMs, V8, PCRE-JIT) never resolve, and without it
     * every such address re-read and re-parsed /proc/PID/maps (thousands of lines for a JVM) on the drain thread
     * and again at every window end. A re-read that finds new executable mappings resets the back-off.
     */
    public void refresh(TrackedProcess p) {
        refresh(p, false);
    }

    /**
     * As {@link #refresh(TrackedProcess)}; {@code ignoreBackoff} re-reads even inside the back-off (a window's end
     * does so once per process, so code mapped since the last read is named in the window that sampled it).
     */
    public void refresh(TrackedProcess p, boolean ignoreBackoff) {
        if (p.exited) {
            return;
        }
        long now = System.nanoTime();
        if (!ignoreBackoff && p.refreshIntervalNanos != 0 && now - p.nextRefreshNanos < 0) {
            return;
        }
        ProcessSymbols old = p.symbols;
        try {
            p.symbols = symbolizer.forProcess(p.identity.pid());
        } catch (RuntimeException | java.io.IOException e) {
            // keep the old snapshot: the process is probably exiting
        }
        boolean sameCode = old != null && p.symbols != null && old.sameCode(p.symbols);
        p.refreshIntervalNanos = sameCode && p.refreshIntervalNanos != 0
                ? Math.min(MAX_REFRESH_NANOS, p.refreshIntervalNanos * 2) : MIN_REFRESH_NANOS;
        p.nextRefreshNanos = now + p.refreshIntervalNanos;
    }

    /**
     * Whether {@code pid} now belongs to another process than the one tracked (its exit event was lost and the PID
     * recycled): if so the old entry is retired like an exec's, so the next sample captures the new process and no
     * stack of it is named with the old one's identity. One small /proc read; called on the kernel's new-PID
     * event and for every tracked process at each window's end.
     */
    public boolean retireIfRecycled(int pid) {
        TrackedProcess p = processes.get(pid);
        if (p == null || p.exited || p.startTicks == ProcessStart.GONE) {
            return false;
        }
        long now = ProcessStart.ticks(procRoot, pid);
        if (now == p.startTicks) {
            return false;
        }
        if (now == ProcessStart.GONE) {
            p.exited = true; // its exit event was lost
        } else {
            execed(pid);
            recycled++;
        }
        return true;
    }

    /** Checks every tracked process (see {@link #retireIfRecycled}); returns how many were retired. */
    public int reconcile() {
        int n = 0;
        for (Integer pid : new ArrayList<>(processes.keySet())) {
            if (retireIfRecycled(pid)) {
                n++;
            }
        }
        return n;
    }

    /** PIDs found recycled (identity replaced) since the start. */
    public long recycled() {
        return recycled;
    }

    public void exited(int pid) {
        TrackedProcess p = processes.get(pid);
        if (p != null) {
            p.exited = true;
        }
    }

    /** Drops processes that have exited and images replaced by an exec; call between windows, after their stacks were named. */
    public void forgetExited() {
        processes.values().removeIf(p -> p.exited);
        retired.clear();
        // image numbers only need to differ within a window: a PID with no entry left starts over
        nextImage.keySet().retainAll(processes.keySet());
    }

    private void evictOne() {
        Iterator<TrackedProcess> it = processes.values().iterator();
        TrackedProcess victim = null;
        for (TrackedProcess p : processes.values()) {
            if (p.exited) {
                victim = p;
                break;
            }
        }
        if (victim == null && it.hasNext()) {
            victim = it.next();
        }
        if (victim != null) {
            processes.remove(victim.identity.pid());
            evictions++;
        }
    }

    public int size() {
        return processes.size();
    }

    public long evictions() {
        return evictions;
    }
}
