package io.moonwalk.luajit.sync;

import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Heartbeats;
import io.moonwalk.containment.Stage;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.bpf.maps.BpfMap;
import io.moonwalk.unwinder.sync.FailureLog;
import io.moonwalk.bpf.maps.MapFill;
import io.moonwalk.luajit.abort.AbortTally;
import io.moonwalk.luajit.abort.PenaltyReader;
import io.moonwalk.luajit.abort.SiteNamer;
import io.moonwalk.luajit.abort.TraceErrors;
import io.moonwalk.luajit.abort.SiteName;
import io.moonwalk.luajit.abort.VmAborts;
import io.moonwalk.luajit.abort.WindowAborts;
import io.moonwalk.luajit.gc.GcHeap;
import io.moonwalk.luajit.lowmem.LowHeadroom;
import io.moonwalk.luajit.lowmem.LowHeadroomScanner;
import io.moonwalk.luajit.gc.GcHeapReader;
import io.moonwalk.luajit.jit.FlushDetector;
import io.moonwalk.luajit.jit.JitHealth;
import io.moonwalk.luajit.jit.JitReadException;
import io.moonwalk.luajit.jit.JitSnapshot;
import io.moonwalk.luajit.jit.JitStateReader;
import io.moonwalk.luajit.jit.McodeRouting;
import io.moonwalk.luajit.layout.LuajitLayout;
import io.moonwalk.unwinder.lpm.LpmPrefixes;
import io.moonwalk.unwinder.lpm.MappingValue;
import io.moonwalk.process.MemoryReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Routes LuaJIT machine code to the kernel's JIT walker: for every VM ({@code global_State}) seen in a sample,
 * its mcode areas (the {@code J->mcarea} chain, read with {@link JitStateReader}) become {@code pid_maps}
 * entries of kind {@link RecordLayout#MAP_LUAJIT_MCODE} whose value carries the VM's g and the LuaJIT
 * binary's {@code luajit_files} key — per area, never per trace (docs/architecture.md, non-negotiable 4; {@link McodeRouting}).
 *
 * <p>Each known VM is re-read about once a second ({@link #POLL_NANOS}); a change in its area list (new area,
 * flush) replaces the process's routes, computed for all its VMs together. An unknown PC in a LuaJIT process
 * (the kernel's UNKNOWN_PC event: e.g. a fresh area) re-reads that process's VMs at once, at most every
 * {@link #UNKNOWN_PC_NANOS}. A VM that no longer reads as a VM is dropped with its routes; a process exit
 * removes everything of it. Bounded: {@link #MAX_VMS} VMs on the host, {@link #MAX_VMS_PER_PROCESS} per
 * process; beyond that VMs are refused and counted. All work runs on one thread of its own.
 */
public final class McodeSync implements AutoCloseable {
    public static final int MAX_VMS = 1024;
    public static final int MAX_VMS_PER_PROCESS = 64;
    static final long POLL_NANOS = 1_000_000_000L;
    /** Abort sites kept in each VM's published summary. */
    public static final int TOP_ABORT_SITES = 5;
    static final long UNKNOWN_PC_NANOS = 200_000_000L;
    /** Consecutive failed reads after which a VM is dropped (a freed g, a VM closed with lua_close). */
    static final int MAX_READ_FAILURES = 3;

    private static final class Vm {
        final long g;
        final FlushDetector detector = new FlushDetector();
        JitSnapshot last;
        /** g->gc at the last read, null until read once */
        GcHeap heap;
        /** sync thread only */
        final VmAborts aborts = new VmAborts();
        /** published copy of {@link #aborts}, null until the penalty cache was read once */
        VmAborts.Summary abortSummary;
        /** aborts since the last window's end; guarded by the McodeSync */
        final WindowAborts window = new WindowAborts();
        int failures;
        long flushedAt;
        /** found from a register, not yet read successfully: dropped silently at its first failed read */
        boolean candidate;

        Vm(long g) {
            this.g = g;
        }
    }

    private static final class Proc {
        final int pid;
        final Map<Long, Vm> vms = new LinkedHashMap<>();
        List<McodeRouting.Route> routes = List.of();
        long fileId;
        long lastUnknownPc;
        boolean resync;
        /** non-GC64 only: the low range at the last poll */
        LowHeadroom headroom;

        Proc(int pid) {
            this.pid = pid;
        }
    }

    private final BpfMap pidMaps;
    private final LuajitFiles files;
    private final MemoryReader memory;
    private final FailureLog failures;
    private final Map<Integer, Proc> procs = new HashMap<>();
    private final Set<Integer> pendingRemovals = new HashSet<>();
    private final Map<LuajitLayout, JitStateReader> readers = new HashMap<>();
    private final Map<LuajitLayout, GcHeapReader> heapReaders = new HashMap<>();
    private final Map<LuajitLayout, PenaltyReader> penaltyReaders = new HashMap<>();
    private final Map<LuajitLayout, SiteNamer> siteNamers = new HashMap<>();
    /** Aborts by reason over every VM ever tracked: monotonic, unlike a sum over the live VMs. */
    private final long[] abortsByReason = new long[TraceErrors.count() + 1];
    private long penaltyReadFailures;
    private static final System.Logger LOG = System.getLogger(McodeSync.class.getName());
    private final LowHeadroomScanner headroomScanner = new LowHeadroomScanner();
    private final byte[] key = new byte[LpmPrefixes.KEY_BYTES];
    private final Thread thread;
    private final Heartbeats.Beat beat;
    private int vmCount;
    private boolean closed;
    private boolean wake;
    /** the sync thread is working through a pass (between taking the due processes and finishing them) */
    private boolean busy;
    private long entries;
    private long routeDrops;
    private long refusedVms;
    private long droppedVms;
    private long syncs;
    private long readFailures;
    private long lastFlushNanos;
    private long rejectedCandidates;
    private long heapReadFailures;

    public McodeSync(BpfMap pidMaps, LuajitFiles files, MemoryReader memory, FailureLog failures) {
        this.pidMaps = pidMaps;
        this.files = files;
        this.memory = memory;
        this.failures = failures;
        this.thread = Thread.ofPlatform().daemon().name("moonwalk-jit-sync").unstarted(this::run);
        this.beat = Heartbeats.register("moonwalk-jit-sync", thread);
        thread.start();
    }

    /** A sample of {@code pid} ran in VM {@code g} (the drain thread calls this for (pid, g) pairs it has not seen). */
    public synchronized void vmSeen(int pid, long g) {
        if (closed || g == 0) {
            return;
        }
        Proc p = procs.get(pid);
        if (p != null && p.vms.containsKey(g)) {
            return;
        }
        if (vmCount >= MAX_VMS || (p != null && p.vms.size() >= MAX_VMS_PER_PROCESS)) {
            refusedVms++;
            return;
        }
        if (p == null) {
            p = new Proc(pid);
            procs.put(pid, p);
        }
        pendingRemovals.remove(pid);
        p.vms.put(g, new Vm(g));
        vmCount++;
        p.resync = true;
        wake = true;
        notifyAll();
    }

    /**
     * A sample's leaf PC was in no mapping of {@code pid} and its r14 was {@code dispatch}: in GC64 trace code that
     * is the VM's DISPATCH ({@code g + G2DISP}), which finds a VM before any sample ran in its interpreter. A
     * candidate that does not read as a VM is forgotten at its first read (counted in {@link #rejectedCandidates}).
     */
    public void leafDispatch(int pid, long dispatch) {
        LuajitLayout l = files.binaryOf(pid).map(b -> b.layout()).orElse(null);
        if (l == null || !l.gc64()) {
            return; // non-GC64 traces allocate r14 like any register
        }
        long g = dispatch - l.g2disp();
        if (dispatch == 0 || (g & 7) != 0 || Long.compareUnsigned(g, 1L << 47) >= 0) {
            return;
        }
        synchronized (this) {
            Proc p = procs.get(pid);
            if (p != null && p.vms.containsKey(g)) {
                unknownPc(pid);
                return;
            }
            vmSeen(pid, g);
            p = procs.get(pid);
            Vm vm = p == null ? null : p.vms.get(g);
            if (vm != null && vm.last == null) {
                vm.candidate = true;
            }
        }
    }

    /** The kernel met a PC outside every route of {@code pid}: re-read its VMs now (rate-limited per process). */
    public synchronized void unknownPc(int pid) {
        Proc p = procs.get(pid);
        long now = System.nanoTime();
        if (p == null || closed || now - p.lastUnknownPc < UNKNOWN_PC_NANOS) {
            return;
        }
        p.lastUnknownPc = now;
        p.resync = true;
        wake = true;
        notifyAll();
    }

    /** The process exited or exec'd: its VMs and routes go. */
    public synchronized void processGone(int pid) {
        if (procs.containsKey(pid)) {
            pendingRemovals.add(pid);
            wake = true;
            notifyAll();
        }
    }

    private void run() {
        long nextPoll = System.nanoTime() + POLL_NANOS;
        while (true) {
            List<Integer> due = new ArrayList<>();
            List<Integer> removals;
            synchronized (this) {
                long now = System.nanoTime();
                while (!closed && !wake && now - nextPoll < 0) {
                    beat.beat(); // POLL_NANOS is BEAT_NANOS: the waits below are no longer
                    try {
                        wait(Math.max(1, (nextPoll - now) / 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                    now = System.nanoTime();
                }
                if (closed) {
                    return;
                }
                wake = false;
                busy = true;
                boolean poll = now - nextPoll >= 0;
                if (poll) {
                    nextPoll = now + POLL_NANOS;
                }
                removals = new ArrayList<>(pendingRemovals);
                pendingRemovals.clear();
                for (Proc p : procs.values()) {
                    if ((poll || p.resync) && !removals.contains(p.pid)) {
                        p.resync = false;
                        due.add(p.pid);
                    }
                }
            }
            for (int pid : removals) {
                removeProcess(pid);
            }
            for (int pid : due) {
                beat.beat();
                try {
                    Faults.inject(Stage.JIT_SYNC, pid);
                    syncProcess(pid);
                } catch (RuntimeException | Error e) {
                    // hostile memory or a bug for one process must not end the sync for all: the next poll retries
                    Faults.contained(Stage.JIT_SYNC, "syncing the mcode areas of pid " + pid, e);
                }
            }
            synchronized (this) {
                busy = false;
                notifyAll();
            }
        }
    }

    /**
     * Waits, at most {@code maxWaitNanos}, until no sync is requested or running (coredump replay: the routes a
     * sample asked for are in pid_maps before the next walk). Returns at once when closed.
     */
    public synchronized void awaitIdle(long maxWaitNanos) {
        long deadline = System.nanoTime() + maxWaitNanos;
        while (!closed && (wake || busy || procs.values().stream().anyMatch(p -> p.resync))) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Reads every VM of {@code pid} and replaces its routes if any area list changed. Sync thread only. */
    private void syncProcess(int pid) {
        List<Vm> vms;
        synchronized (this) {
            Proc p = procs.get(pid);
            if (p == null) {
                return;
            }
            vms = new ArrayList<>(p.vms.values());
        }
        LuajitLayout layout = files.binaryOf(pid).map(b -> b.layout()).orElse(null);
        long fileId = files.fileIdOf(pid);
        if (layout == null || fileId == 0) {
            return; // the map sync has not established the binary yet: the next poll tries again
        }
        JitStateReader reader = readers.computeIfAbsent(layout, l -> new JitStateReader(memory, l));
        GcHeapReader heapReader = heapReaders.computeIfAbsent(layout, l -> new GcHeapReader(memory, l));
        PenaltyReader penaltyReader = penaltyReaders.computeIfAbsent(layout, l -> new PenaltyReader(memory, l));
        SiteNamer siteNamer = siteNamers.computeIfAbsent(layout, l -> new SiteNamer(memory, l));
        boolean changed = false;
        List<Long> dead = new ArrayList<>();
        for (Vm vm : vms) {
            JitSnapshot s;
            try {
                s = reader.read(pid, vm.g);
            } catch (JitReadException e) {
                synchronized (this) {
                    readFailures++;
                }
                if (e.reason() == JitReadException.Reason.NO_PROCESS) {
                    removeProcess(pid);
                    return;
                }
                if (vm.candidate && e.reason() != JitReadException.Reason.UNSTABLE) {
                    synchronized (this) {
                        rejectedCandidates++;
                    }
                    dead.add(vm.g);
                    continue;
                }
                if (e.reason() != JitReadException.Reason.UNSTABLE && ++vm.failures >= MAX_READ_FAILURES) {
                    failures.report("jit-vm:" + e.reason(), "pid " + pid + ": dropping LuaJIT VM 0x"
                            + Long.toHexString(vm.g) + " (" + e.getMessage() + "); its JIT frames are no longer routed");
                    dead.add(vm.g);
                    changed = true;
                }
                continue;
            }
            vm.failures = 0;
            vm.candidate = false;
            GcHeap heap = null;
            try {
                heap = heapReader.read(pid, vm.g);
            } catch (JitReadException e) {
                // the JIT state just read as this VM's: a heap that does not is torn or freed; the next poll retries
                synchronized (this) {
                    heapReadFailures++;
                }
            }
            List<AbortTally.Aborts> fresh = null;
            List<SiteName> freshNames = new ArrayList<>();
            try {
                fresh = vm.aborts.observe(penaltyReader.read(pid, vm.g, vm.aborts.last()), siteNamer);
                for (AbortTally.Aborts a : fresh) {
                    SiteName n = vm.aborts.nameOf(a.pc());
                    freshNames.add(n == null ? SiteName.UNKNOWN : n);
                }
            } catch (JitReadException e) {
                synchronized (this) {
                    penaltyReadFailures++;
                }
            }
            FlushDetector.Change c = vm.detector.observe(s);
            synchronized (this) {
                vm.last = s;
                vm.heap = heap;
                if (fresh != null) {
                    for (int i = 0; i < fresh.size(); i++) {
                        AbortTally.Aborts a = fresh.get(i);
                        abortsByReason[Math.min(Math.max(a.reason(), 0), TraceErrors.count())] += a.count();
                        vm.window.add(freshNames.get(i), TraceErrors.label(a.reason()), a.count(), a.blacklisted());
                    }
                    vm.abortSummary = vm.aborts.summary(pid, vm.g, TOP_ABORT_SITES);
                }
                if (c.flushed()) {
                    vm.flushedAt = System.nanoTime();
                    lastFlushNanos = vm.flushedAt;
                }
                syncs++;
            }
            changed |= c.resyncAreas() || c.flushed();
        }
        LowHeadroom headroom = null;
        if (!layout.gc64()) {
            try {
                headroom = headroomScanner.scan(pid);
            } catch (IOException e) {
                // the process is exiting: its removal follows
            }
        }
        synchronized (this) {
            Proc p = procs.get(pid);
            if (p == null) {
                return;
            }
            if (headroom != null) {
                if (headroom.low() && (p.headroom == null || !p.headroom.low())) {
                    LOG.log(System.Logger.Level.WARNING, lowWarning(headroom));
                }
                p.headroom = headroom;
            }
            for (long g : dead) {
                Vm gone = p.vms.remove(g);
                if (gone != null) {
                    vmCount--;
                    droppedVms += gone.candidate ? 0 : 1;
                }
            }
            if (!changed && p.fileId == fileId) {
                return;
            }
            List<JitSnapshot> snaps = new ArrayList<>();
            for (Vm vm : p.vms.values()) {
                if (vm.last != null) {
                    snaps.add(vm.last);
                }
            }
            replaceRoutes(p, McodeRouting.plan(pid, snaps).routes(), fileId);
        }
    }

    /** Installs {@code wanted} for the process and deletes its routes that are not wanted any more. */
    private void replaceRoutes(Proc p, List<McodeRouting.Route> wanted, long fileId) {
        Set<McodeRouting.Route> keep = p.fileId == fileId ? new HashSet<>(wanted) : Set.of();
        Set<McodeRouting.Route> have = new HashSet<>(p.routes);
        // delete first: a prefix of a flushed area may come back for another VM with the same key
        for (McodeRouting.Route r : p.routes) {
            if (!keep.contains(r)) {
                delete(r);
            }
        }
        List<McodeRouting.Route> installed = new ArrayList<>(wanted.size());
        for (McodeRouting.Route r : wanted) {
            if (keep.contains(r) && have.contains(r)) {
                installed.add(r);
                continue;
            }
            LpmPrefixes.encodeKey(r.pid(), r.prefixLength(), r.address(), key, 0);
            int rc = pidMaps.update(key, value(fileId, r.g()));
            if (rc != 0) {
                routeDrops++;
                failures.report("pid_maps-jit:" + rc, "map pid_maps refused an mcode-area entry for pid " + r.pid()
                        + " (errno " + rc + "); samples in that JIT code end in an unknown-PC error frame");
                continue;
            }
            entries++;
            installed.add(r);
        }
        p.routes = List.copyOf(installed);
        p.fileId = fileId;
    }

    private void delete(McodeRouting.Route r) {
        LpmPrefixes.encodeKey(r.pid(), r.prefixLength(), r.address(), key, 0);
        if (pidMaps.delete(key) == 0) {
            entries--;
        }
    }

    private static byte[] value(long fileId, long g) {
        return MappingValue.encode(new byte[MappingValue.BYTES], fileId, g, RecordLayout.MAP_LUAJIT_MCODE, 0);
    }

    private synchronized void removeProcess(int pid) {
        Proc p = procs.remove(pid);
        if (p == null) {
            return;
        }
        for (McodeRouting.Route r : p.routes) {
            delete(r);
        }
        vmCount -= p.vms.size();
    }

    // ---- figures ----

    /** Health of every VM read at least once, per process. */
    public synchronized List<JitHealth> health() {
        List<JitHealth> out = new ArrayList<>();
        for (Proc p : procs.values()) {
            for (Vm vm : p.vms.values()) {
                if (vm.last != null) {
                    out.add(JitHealth.of(vm.last, vm.detector));
                }
            }
        }
        return out;
    }

    /** The GC heap of every VM whose last read gave one. */
    public synchronized List<GcHeap> heaps() {
        List<GcHeap> out = new ArrayList<>();
        for (Proc p : procs.values()) {
            for (Vm vm : p.vms.values()) {
                if (vm.heap != null) {
                    out.add(vm.heap);
                }
            }
        }
        return out;
    }

    /** The warning {@code record} prints and the agent logs when a process's low range runs short. */
    public static String lowWarning(LowHeadroom h) {
        long mib = 1 << 20;
        return String.format("luajit pid %d: WARNING only %d MiB of the %d MiB below 0x%x that non-GC64 LuaJIT"
                + " allocates from are free (largest gap %d MiB; brk heap %d MiB, anonymous/LuaJIT %d MiB, files %d"
                + " MiB): LuaJIT fails with \"not enough memory\" when no gap fits its next arena", h.pid(),
                h.freeBytes() / mib, h.rangeBytes() / mib, h.rangeEnd(), h.largestGap() / mib, h.brkBytes() / mib,
                h.anonBytes() / mib, h.fileBytes() / mib);
    }

    /** Low-range headroom of every non-GC64 LuaJIT process, at its last poll. */
    public synchronized List<LowHeadroom> headrooms() {
        List<LowHeadroom> out = new ArrayList<>();
        for (Proc p : procs.values()) {
            if (p.headroom != null) {
                out.add(p.headroom);
            }
        }
        return out;
    }

    /** Trace aborts of every VM whose penalty cache was read. */
    public synchronized List<VmAborts.Summary> aborts() {
        List<VmAborts.Summary> out = new ArrayList<>();
        for (Proc p : procs.values()) {
            for (Vm vm : p.vms.values()) {
                if (vm.abortSummary != null) {
                    out.add(vm.abortSummary);
                }
            }
        }
        return out;
    }

    /**
     * Each VM's trace aborts since the previous call (the window that ends now), with its {@code topSites} busiest
     * sites; VMs without aborts in the window are left out. Starts the next window.
     */
    public synchronized List<VmAborts.Summary> cutAbortWindow(int topSites) {
        List<VmAborts.Summary> out = new ArrayList<>();
        for (Proc p : procs.values()) {
            for (Vm vm : p.vms.values()) {
                if (!vm.window.isEmpty()) {
                    out.add(vm.window.cut(p.pid, vm.g, topSites));
                }
            }
        }
        return out;
    }

    /** Trace aborts counted for reason label index {@code reason} ({@link TraceErrors}; count() = other). */
    public synchronized long abortsByReason(int reason) {
        return abortsByReason[reason];
    }

    /** Penalty-cache reads that failed after the VM's JIT state read fine. */
    public synchronized long penaltyReadFailures() {
        return penaltyReadFailures;
    }

    /** GC heap reads that failed after the VM's JIT state read fine. */
    public synchronized long heapReadFailures() {
        return heapReadFailures;
    }

    /** {@code pid_maps} entries installed for {@code pid}'s mcode areas. */
    public synchronized int entriesOf(int pid) {
        Proc p = procs.get(pid);
        return p == null ? 0 : p.routes.size();
    }

    /** Mcode areas of {@code pid} (all VMs) at the last read. */
    public synchronized int areasOf(int pid) {
        Proc p = procs.get(pid);
        int n = 0;
        if (p != null) {
            for (Vm vm : p.vms.values()) {
                n += vm.last == null ? 0 : vm.last.areas().size();
            }
        }
        return n;
    }

    /** VMs of {@code pid} that are tracked. */
    public synchronized Set<Long> vmsOf(int pid) {
        Proc p = procs.get(pid);
        return p == null ? Set.of() : Set.copyOf(p.vms.keySet());
    }

    /** Flushes detected over all VMs since start (dropped VMs included until they are dropped). */
    public synchronized long flushes() {
        long n = 0;
        for (Proc p : procs.values()) {
            for (Vm vm : p.vms.values()) {
                n += vm.detector.flushes();
            }
        }
        return n;
    }

    /** {@link System#nanoTime()} of the last detected flush, 0 if none. */
    public synchronized long lastFlushNanos() {
        return lastFlushNanos;
    }

    public synchronized long syncs() {
        return syncs;
    }

    public synchronized long readFailures() {
        return readFailures;
    }

    /** VMs refused because {@link #MAX_VMS} or {@link #MAX_VMS_PER_PROCESS} were reached. */
    public synchronized long refusedVms() {
        return refusedVms;
    }

    /** Register-derived VM candidates that were not VMs. */
    public synchronized long rejectedCandidates() {
        return rejectedCandidates;
    }

    public synchronized long droppedVms() {
        return droppedVms;
    }

    /** The share of {@code pid_maps} that mcode routes take. */
    public synchronized MapFill fill() {
        return new MapFill(pidMaps.name() + "[luajit-mcode]", entries, pidMaps.maxEntries(), routeDrops);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            notifyAll();
        }
        beat.close();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
