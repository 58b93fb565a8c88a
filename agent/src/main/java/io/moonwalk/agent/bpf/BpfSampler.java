package io.moonwalk.agent.bpf;

import static io.moonwalk.bpf.layout.RecordLayout.CONFIG;
import static io.moonwalk.bpf.layout.RecordLayout.CONFIG_AGENT_PID;
import static io.moonwalk.bpf.layout.RecordLayout.CONFIG_FILTER_PIDS;
import static io.moonwalk.bpf.layout.RecordLayout.CONFIG_OFF_CPU_MIN_NS;
import static io.moonwalk.bpf.layout.RecordLayout.CONFIG_PIDNS_DEV;
import static io.moonwalk.bpf.layout.RecordLayout.CONFIG_PIDNS_INO;
import static io.moonwalk.bpf.layout.RecordLayout.CONFIG_USER_STACKS;
import static io.moonwalk.bpf.layout.RecordLayout.EVENT_EXIT;
import static io.moonwalk.bpf.layout.RecordLayout.EVENT_NEW_PID;
import static io.moonwalk.bpf.layout.RecordLayout.EVENT_SAMPLE;
import static io.moonwalk.bpf.layout.RecordLayout.EXIT;
import static io.moonwalk.bpf.layout.RecordLayout.EXIT_KTIME_NS;
import static io.moonwalk.bpf.layout.RecordLayout.EXIT_PID;
import static io.moonwalk.bpf.layout.RecordLayout.PID_EVENT;
import static io.moonwalk.bpf.layout.RecordLayout.PID_EVENT_PC;
import static io.moonwalk.bpf.layout.RecordLayout.PID_EVENT_PID;
import static io.moonwalk.bpf.layout.RecordLayout.STAT_MAX;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import io.moonwalk.agent.ffi.ErrnoCalls;
import io.moonwalk.agent.ffi.libbpf.bpf_object_open_opts;
import io.moonwalk.agent.ffi.libbpf.bpf_prog_info;
import io.moonwalk.agent.ffi.libbpf.libbpf_h;
import io.moonwalk.agent.ffi.libbpf.ring_buffer_sample_fn;
import io.moonwalk.bpf.layout.RecordLayout;
import io.moonwalk.bpf.maps.BpfMaps;
import io.moonwalk.bpf.maps.Errno;
import io.moonwalk.containment.Faults;
import io.moonwalk.containment.Stage;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The loaded sampler: the embedded BPF object, one cpu-clock perf event per online CPU running
 * {@code mw_sample}, the process-exit tracepoint, and the ring buffer they write to.
 *
 * <p>Nothing wakes the agent per sample: the programs write with BPF_RB_NO_WAKEUP and the owner
 * calls {@link #drain} on a timer (every 100-250 ms). {@link #close()} may race with a drain from
 * another thread (shutdown hook): both hold the same lock, so close waits for the drain to finish.
 */
public final class BpfSampler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BpfSampler.class.getName());

    /** Where the bpf module puts the object in its jar. */
    public static final String OBJECT_RESOURCE = "/io/moonwalk/bpf/moonwalk.bpf.o";
    static final Path KERNEL_BTF = Path.of("/sys/kernel/btf/vmlinux");

    public static final String SAMPLE_PROGRAM = "mw_sample";
    public static final String EXIT_PROGRAM = "mw_process_exit";
    /** Drops a PID's marker when it execs (its installed maps describe the old image). */
    public static final String EXEC_PROGRAM = "mw_process_exec";
    /** The native walker, entered from mw_sample by tail call. */
    public static final String WALK_PROGRAM = "mw_walk";
    public static final String LUA_WALK_PROGRAM = "mw_lua_walk";
    /** The off-CPU probes (events.bpf.c): loaded and attached only with {@link SamplerOptions#offCpu()}. */
    public static final String OFF_CPU_SWITCH_PROGRAM = "mw_off_cpu_switch";
    public static final String OFF_CPU_EXIT_PROGRAM = "mw_off_cpu_exit";
    /** The raw tracepoint copies of the walkers the event probes enter, by tail-call slot (tailcall.bpf.h). */
    static final List<String> EVENT_WALK_PROGRAMS = List.of("mw_ev_walk", "mw_ev_lua_walk");
    /** The mmap event probe (events.bpf.c): loaded and attached only with {@link SamplerOptions#mmapEvents()}. */
    public static final String MMAP_PROGRAM = "mw_mmap_enter";
    static final String EVENT_PROGS_MAP = "event_progs";
    static final String OFF_CPU_WAITS_MAP = "off_cpu_waits";
    static final String MMAP_COUNTS_MAP = "mmap_counts";
    static final String CONFIG_MAP = "config_map";
    static final String PID_FILTER_MAP = "pid_filter";
    static final String STATS_MAP = "stats";
    static final String EVENTS_MAP = "events";

    private final Object lock = new Object();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment callState = ErrnoCalls.allocateCallState(arena);
    private final List<MemorySegment> links = new ArrayList<>();
    private final SampleRecord record = new SampleRecord();
    private final KernelBpfMaps maps = new KernelBpfMaps(this::map);
    private final boolean filtering;
    private MemorySegment obj = MemorySegment.NULL;
    private MemorySegment ringBuffer = MemorySegment.NULL;
    private MemorySegment sampleProgram;
    private MemorySegment pidFilterMap;
    private MemorySegment statsMap;
    private int perfEvents;
    private boolean closed;

    // per-drain state, touched only under lock by the draining thread and its upcalls
    private RecordHandler handler;
    private int dispatched;
    private Throwable handlerFailure;
    private long malformedRecords;
    private long unknownRecords;
    private SamplerOptions options;
    private boolean attachedOnce;
    /** Event types beyond this are not records the programs send: counted as unknown. */
    static final int MAX_PID_EVENT_TYPE = 63;

    private BpfSampler(boolean filtering) {
        this.filtering = filtering;
    }

    /**
     * Loads and attaches the sampler. On failure everything already created is released and a
     * {@link BpfException} says what failed and what to do.
     */
    public static BpfSampler open(SamplerOptions options) {
        return open(options, Map.of(), s -> { });
    }

    /**
     * Loads, then calls {@code beforeAttach} with the loaded sampler (its {@link #maps()} usable, nothing
     * sampled yet: e.g. to install the unwind maps of the target processes so that the first samples are
     * complete), then attaches.
     *
     * @param mapSizes max_entries overrides by map name, applied before load (tests: a tiny pid_maps)
     */
    public static BpfSampler open(SamplerOptions options, Map<String, Integer> mapSizes,
            Consumer<BpfSampler> beforeAttach) {
        return open(options, readObject(), mapSizes, beforeAttach);
    }

    /** Opens with another build of the object (tests: a program the verifier rejects). */
    static BpfSampler open(SamplerOptions options, byte[] image) {
        return open(options, image, Map.of(), s -> { });
    }

    private static BpfSampler open(SamplerOptions options, byte[] image, Map<String, Integer> mapSizes,
            Consumer<BpfSampler> beforeAttach) {
        BpfSampler s = load(options, image, mapSizes);
        try {
            beforeAttach.accept(s);
            s.attach();
            return s;
        } catch (RuntimeException | Error e) {
            try {
                s.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Loads the programs and maps without attaching: {@link #maps()} are usable and nothing is sampled until
     * {@link #attach()} (the session installs the target processes' maps in between). On failure everything
     * already created is released.
     *
     * @param mapSizes max_entries overrides by map name, applied before load (tests: a tiny pid_maps)
     */
    public static BpfSampler load(SamplerOptions options, Map<String, Integer> mapSizes) {
        return load(options, readObject(), mapSizes);
    }

    private static BpfSampler load(SamplerOptions options, byte[] image, Map<String, Integer> mapSizes) {
        checkKernel();
        BpfSampler s = new BpfSampler(!options.pids().isEmpty());
        try {
            s.loadObject(options, image, mapSizes);
            return s;
        } catch (RuntimeException | Error e) {
            try {
                s.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static void checkKernel() {
        try {
            int major = libbpf_h.libbpf_major_version();
            int minor = libbpf_h.libbpf_minor_version();
            if (major < 1) {
                throw new BpfException("libbpf " + major + "." + minor + " is too old: moonwalk needs libbpf 1.0+");
            }
        } catch (LinkageError | IllegalArgumentException e) {
            throw new BpfException("libbpf.so.1 cannot be loaded: install libbpf 1.x (Debian/Ubuntu:"
                    + " apt-get install libbpf1; RHEL/Fedora: dnf install libbpf)", 0, e);
        }
        KernelFeatures.require(KERNEL_BTF);
    }

    private void loadObject(SamplerOptions options, byte[] image, Map<String, Integer> mapSizes) {
        this.options = options;
        LibbpfLog.install();
        try (Arena loadArena = Arena.ofConfined(); LibbpfLog.Capture log = LibbpfLog.capture()) {
            // libbpf may read the buffer until load, so it lives until load returns
            MemorySegment buf = loadArena.allocate(image.length);
            MemorySegment.copy(image, 0, buf, JAVA_BYTE, 0, image.length);
            MemorySegment opts = bpf_object_open_opts.allocate(loadArena);
            bpf_object_open_opts.sz(opts, bpf_object_open_opts.sizeof());
            bpf_object_open_opts.object_name(opts, loadArena.allocateFrom("moonwalk"));

            obj = ErrnoCalls.bpf_object__open_mem(callState, buf, buf.byteSize(), opts);
            if (obj.equals(MemorySegment.NULL)) {
                throw withLog(BpfException.of("opening the embedded BPF object (bpf_object__open_mem)",
                        ErrnoCalls.errno(callState), "the agent jar may be corrupt; rebuild it"), log);
            }
            MemorySegment events = map(EVENTS_MAP);
            int rc = libbpf_h.bpf_map__set_max_entries(events, options.ringBufferBytes());
            if (rc < 0) {
                throw BpfException.of("sizing the ring buffer to " + options.ringBufferBytes() + " bytes", -rc,
                        "use a power of two of at least one page");
            }
            // an event profile that is off is not in the kernel at all: no verification, no attach, its table one
            // entry (an object built without them, as some tests load, has nothing to switch off)
            disableUnless(options.eventProbes(), EVENT_WALK_PROGRAMS, null);
            disableUnless(options.offCpu(), List.of(OFF_CPU_SWITCH_PROGRAM, OFF_CPU_EXIT_PROGRAM), OFF_CPU_WAITS_MAP);
            disableUnless(options.mmapEvents(), List.of(MMAP_PROGRAM), MMAP_COUNTS_MAP);
            for (Map.Entry<String, Integer> size : mapSizes.entrySet()) {
                rc = libbpf_h.bpf_map__set_max_entries(map(size.getKey()), size.getValue());
                if (rc < 0) {
                    throw BpfException.of("sizing map " + size.getKey() + " to " + size.getValue() + " entries", -rc,
                            null);
                }
            }
            rc = libbpf_h.bpf_object__load(obj);
            if (rc < 0) {
                String what = "loading the BPF programs into the kernel (bpf_object__load)";
                // the verifier refuses with EACCES too, which is not a privilege problem
                BpfException e = log.sawVerifierLog()
                        ? BpfException.kernelRefused(KernelFeatures.verifierRefusal(log.rejectedProgram(),
                                log.verifierReason(), -rc), -rc)
                        : BpfException.of(what, -rc, "kernel " + KernelFeatures.MINIMUM_TESTED + "+ with BTF is required");
                throw withLog(e, log);
            }
        }
        sampleProgram = program(SAMPLE_PROGRAM);
        if (options.eventProbes()) {
            fillEventWalkers();
        }
        logVerifiedInstructions();
        pidFilterMap = map(PID_FILTER_MAP);
        statsMap = map(STATS_MAP);
        writeConfig(options);
        for (int pid : options.pids()) {
            putPid(pid);
        }
        openRingBuffer();
    }

    /** Attaches the exit tracepoint and the perf events of a sampler from {@link #load}: sampling starts. Once. */
    public void attach() {
        if (attachedOnce) {
            throw new IllegalStateException("the sampler is attached already");
        }
        attachedOnce = true;
        attachExitTracepoint();
        if (options.offCpu()) {
            attachBtfTracepoint(OFF_CPU_SWITCH_PROGRAM, "sched_switch");
            attachRawTracepoint(OFF_CPU_EXIT_PROGRAM, "sys_exit");
        }
        if (options.mmapEvents()) {
            attachRawTracepoint(MMAP_PROGRAM, "sys_enter");
        }
        attachPerfEvents(options.hz());
        LOG.log(Level.INFO, "BPF sampler attached: {0} CPUs at {1} Hz, {2}{3}", perfEvents, options.hz(),
                filtering ? options.pids().size() + " pids" : "whole host",
                (options.offCpu() ? ", off-CPU waits of " + options.offCpuMinNanos() / 1000 + " us or more" : "")
                        + (options.mmapEvents() ? ", mmap events" : ""));
    }

    /** How close the big programs come to the verifier's limit, per kernel (reported by 5.16+ only). */
    private void logVerifiedInstructions() {
        if (!LOG.isLoggable(Level.INFO)) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        List<String> programs = new ArrayList<>(List.of(SAMPLE_PROGRAM, WALK_PROGRAM, LUA_WALK_PROGRAM));
        if (options.eventProbes()) {
            programs.addAll(EVENT_WALK_PROGRAMS);
        }
        if (options.offCpu()) {
            programs.addAll(List.of(OFF_CPU_SWITCH_PROGRAM, OFF_CPU_EXIT_PROGRAM));
        }
        if (options.mmapEvents()) {
            programs.add(MMAP_PROGRAM);
        }
        for (String p : programs) {
            int n = verifiedInstructions(p);
            sb.append(sb.isEmpty() ? "" : ", ").append(p).append(' ').append(n == 0 ? "n/a" : String.valueOf(n));
        }
        LOG.log(Level.INFO, "BPF programs loaded on kernel {0}; instructions verified (of 1000000): {1}",
                KernelFeatures.release(), sb);
    }

    private static BpfException withLog(BpfException e, LibbpfLog.Capture log) {
        String tail = log.tail();
        return tail.isEmpty() ? e : e.withDetail("\nlibbpf/verifier log (tail):\n" + tail);
    }

    private static byte[] readObject() {
        try (InputStream in = BpfSampler.class.getResourceAsStream(OBJECT_RESOURCE)) {
            if (in == null) {
                throw new BpfException("BPF object " + OBJECT_RESOURCE + " is not on the classpath:"
                        + " build the bpf module (make -C bpf) and put its jar on the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BpfException("reading BPF object " + OBJECT_RESOURCE + " failed: " + e.getMessage(), 0, e);
        }
    }

    private MemorySegment map(String name) {
        MemorySegment m = ErrnoCalls.bpf_object__find_map_by_name(callState, obj, arena.allocateFrom(name));
        if (m.equals(MemorySegment.NULL)) {
            throw new BpfException("BPF map '" + name + "' is missing from the embedded object:"
                    + " the agent and bpf module are out of step; rebuild both");
        }
        return m;
    }

    private MemorySegment program(String name) {
        MemorySegment p = ErrnoCalls.bpf_object__find_program_by_name(callState, obj, arena.allocateFrom(name));
        if (p.equals(MemorySegment.NULL)) {
            throw new BpfException("BPF program '" + name + "' is missing from the embedded object:"
                    + " the agent and bpf module are out of step; rebuild both");
        }
        return p;
    }

    private void writeConfig(SamplerOptions options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment key = a.allocate(JAVA_INT);
            MemorySegment value = a.allocate(CONFIG);
            value.set(JAVA_INT, CONFIG_AGENT_PID, (int) ProcessHandle.current().pid());
            value.set(JAVA_INT, CONFIG_FILTER_PIDS, filtering ? 1 : 0);
            value.set(JAVA_INT, CONFIG_USER_STACKS, options.userStacks() ? 1 : 0);
            value.set(JAVA_LONG, CONFIG_OFF_CPU_MIN_NS, options.offCpuMinNanos());
            value.set(JAVA_LONG, RecordLayout.CONFIG_MMAP_INTERVAL_NS, options.mmapIntervalNanos());
            PidNamespace ns = PidNamespace.ofThisProcess();
            if (!ns.initial()) {
                value.set(JAVA_LONG, CONFIG_PIDNS_DEV, ns.dev());
                value.set(JAVA_LONG, CONFIG_PIDNS_INO, ns.ino());
            }
            int rc = libbpf_h.bpf_map__update_elem(map(CONFIG_MAP), key, key.byteSize(), value, value.byteSize(),
                    libbpf_h.BPF_ANY());
            if (rc < 0) {
                throw BpfException.of("writing the sampler configuration map", -rc, null);
            }
        }
    }

    private void putPid(int pid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment key = a.allocate(JAVA_INT);
            key.set(JAVA_INT, 0, pid);
            MemorySegment value = a.allocate(JAVA_BYTE);
            value.set(JAVA_BYTE, 0, (byte) 1);
            int rc = libbpf_h.bpf_map__update_elem(pidFilterMap, key, key.byteSize(), value, value.byteSize(),
                    libbpf_h.BPF_ANY());
            if (rc < 0) {
                throw BpfException.of("adding pid " + pid + " to the PID filter", -rc,
                        -rc == Errno.E2BIG ? "the filter holds at most " + SamplerOptions.MAX_PIDS
                                + " pids; profile the whole host instead" : null);
            }
        }
    }

    private void openRingBuffer() {
        MemorySegment callback = ring_buffer_sample_fn.allocate(this::onRecord, arena);
        int fd = libbpf_h.bpf_map__fd(map(EVENTS_MAP));
        ringBuffer = ErrnoCalls.ring_buffer__new(callState, fd, callback, MemorySegment.NULL, MemorySegment.NULL);
        if (ringBuffer.equals(MemorySegment.NULL)) {
            ringBuffer = MemorySegment.NULL;
            throw BpfException.of("mapping the BPF ring buffer (ring_buffer__new)", ErrnoCalls.errno(callState),
                    "lower the ring buffer size if memory is short");
        }
    }

    private void attachExitTracepoint() {
        attachTracepoint(EXIT_PROGRAM, "sched_process_exit");
        attachTracepoint(EXEC_PROGRAM, "sched_process_exec");
    }

    private void attachTracepoint(String program, String sched) {
        MemorySegment link = ErrnoCalls.bpf_program__attach_tracepoint(callState, program(program),
                arena.allocateFrom("sched"), arena.allocateFrom(sched));
        if (link.equals(MemorySegment.NULL)) {
            throw BpfException.of("attaching " + program + " to tracepoint sched/" + sched,
                    ErrnoCalls.errno(callState), "tracefs/debugfs tracepoints must be available");
        }
        links.add(link);
    }

    /** Before load: unless {@code on}, the programs are not loaded and {@code table} (if any) is shrunk to one entry. */
    private void disableUnless(boolean on, List<String> programs, String table) {
        if (on) {
            return;
        }
        for (String p : programs) {
            MemorySegment prog = ErrnoCalls.bpf_object__find_program_by_name(callState, obj, arena.allocateFrom(p));
            if (!prog.equals(MemorySegment.NULL)) {
                libbpf_h.bpf_program__set_autoload(prog, false);
            }
        }
        if (table == null) {
            return;
        }
        MemorySegment m = ErrnoCalls.bpf_object__find_map_by_name(callState, obj, arena.allocateFrom(table));
        int rc;
        if (!m.equals(MemorySegment.NULL) && (rc = libbpf_h.bpf_map__set_max_entries(m, 1)) < 0) {
            throw BpfException.of("shrinking the unused table " + table, -rc, null);
        }
    }

    /**
     * The mmap event probe's counts per LuaJIT process (pid -> mmap, munmap, mprotect calls, calls the rate limit
     * did not walk), empty when the probe is off.
     */
    public Map<Integer, long[]> mmapCounts() {
        synchronized (lock) {
            ensureOpen();
            Map<Integer, long[]> out = new java.util.TreeMap<>();
            if (!options.mmapEvents()) {
                return out;
            }
            MemorySegment m = map(MMAP_COUNTS_MAP);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment key = a.allocate(JAVA_INT);
                MemorySegment next = a.allocate(JAVA_INT);
                MemorySegment value = a.allocate(RecordLayout.MMAP_COUNTS);
                MemorySegment prev = MemorySegment.NULL;
                for (int i = 0; i < RecordLayout.MMAP_PROCESSES; i++) {
                    if (libbpf_h.bpf_map__get_next_key(m, prev, next, JAVA_INT.byteSize()) < 0) {
                        break;
                    }
                    if (libbpf_h.bpf_map__lookup_elem(m, next, JAVA_INT.byteSize(), value, value.byteSize(), 0) == 0) {
                        out.put(next.get(JAVA_INT, 0), new long[] {value.get(JAVA_LONG, RecordLayout.MMAP_COUNTS_MMAP),
                                value.get(JAVA_LONG, RecordLayout.MMAP_COUNTS_MUNMAP),
                                value.get(JAVA_LONG, RecordLayout.MMAP_COUNTS_MPROTECT),
                                value.get(JAVA_LONG, RecordLayout.MMAP_COUNTS_LIMITED)});
                    }
                    MemorySegment.copy(next, 0, key, 0, JAVA_INT.byteSize());
                    prev = key;
                }
            }
            return out;
        }
    }

    /** A tp_btf program: the tracepoint is named in its section (tp_btf/NAME). */
    private void attachBtfTracepoint(String program, String tracepoint) {
        MemorySegment link = ErrnoCalls.bpf_program__attach_trace(callState, program(program));
        if (link.equals(MemorySegment.NULL)) {
            throw BpfException.of("attaching " + program + " to BTF tracepoint " + tracepoint,
                    ErrnoCalls.errno(callState), "the kernel needs BTF-typed tracepoints (5.5+, CONFIG_DEBUG_INFO_BTF)");
        }
        links.add(link);
    }

    private void attachRawTracepoint(String program, String tracepoint) {
        MemorySegment link = ErrnoCalls.bpf_program__attach_raw_tracepoint(callState, program(program),
                arena.allocateFrom(tracepoint));
        if (link.equals(MemorySegment.NULL)) {
            throw BpfException.of("attaching " + program + " to raw tracepoint " + tracepoint,
                    ErrnoCalls.errno(callState), "the kernel needs raw tracepoint support (4.17+)");
        }
        links.add(link);
    }

    /** Puts the raw tracepoint walkers into event_progs (not declared in the object: they may not be loaded). */
    private void fillEventWalkers() {
        MemorySegment progs = map(EVENT_PROGS_MAP);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment key = a.allocate(JAVA_INT);
            MemorySegment value = a.allocate(JAVA_INT);
            for (int slot = 0; slot < EVENT_WALK_PROGRAMS.size(); slot++) {
                key.set(JAVA_INT, 0, slot);
                value.set(JAVA_INT, 0, libbpf_h.bpf_program__fd(program(EVENT_WALK_PROGRAMS.get(slot))));
                int rc = libbpf_h.bpf_map__update_elem(progs, key, key.byteSize(), value, value.byteSize(),
                        libbpf_h.BPF_ANY());
                if (rc < 0) {
                    throw BpfException.of("installing " + EVENT_WALK_PROGRAMS.get(slot) + " in " + EVENT_PROGS_MAP,
                            -rc, null);
                }
            }
        }
    }

    private void attachPerfEvents(int hz) {
        if (!CpuClockEvent.supported()) {
            throw new BpfException("perf_event_open has no known syscall number on " + System.getProperty("os.arch")
                    + ": moonwalk supports x86_64 and aarch64");
        }
        MemorySegment attr = CpuClockEvent.attr(arena, hz);
        for (int cpu : OnlineCpus.read()) {
            long fd = CpuClockEvent.open(callState, attr, cpu);
            if (fd < 0) {
                int errno = ErrnoCalls.errno(callState);
                if (errno == Errno.ENODEV || errno == Errno.ENXIO) {
                    LOG.log(Level.WARNING, "CPU {0} went offline while attaching; it is not sampled", cpu);
                    continue;
                }
                throw BpfException.of("opening the cpu-clock perf event on CPU " + cpu + " (perf_event_open)", errno,
                        errno == Errno.EINVAL ? "the frequency " + hz
                                + " Hz may exceed kernel.perf_event_max_sample_rate" : null);
            }
            MemorySegment link = ErrnoCalls.bpf_program__attach_perf_event(callState, sampleProgram, (int) fd);
            if (link.equals(MemorySegment.NULL)) {
                int errno = ErrnoCalls.errno(callState);
                ErrnoCalls.close(callState, (int) fd);
                throw BpfException.of("attaching " + SAMPLE_PROGRAM + " to the perf event of CPU " + cpu, errno, null);
            }
            links.add(link); // the link owns the perf fd from here on
            perfEvents++;
        }
        if (perfEvents == 0) {
            throw new BpfException("no online CPU could be sampled: " + OnlineCpus.ONLINE + " lists none that accepted"
                    + " a perf event");
        }
    }

    /**
     * Dispatches every record currently in the ring buffer to {@code h} on this thread and returns
     * how many were dispatched. Returns 0 once closed. If {@code h} throws for a record, that record is lost and
     * counted ({@link Stage#DRAIN}) and the drain goes on; only an {@link OutOfMemoryError} (or an injected escape)
     * stops it and is rethrown here (later records stay queued).
     */
    public int drain(RecordHandler h) {
        synchronized (lock) {
            if (closed) {
                return 0;
            }
            handler = h;
            dispatched = 0;
            handlerFailure = null;
            try {
                int rc = libbpf_h.ring_buffer__consume(ringBuffer);
                if (handlerFailure != null) {
                    if (handlerFailure instanceof RuntimeException r) {
                        throw r;
                    }
                    if (handlerFailure instanceof Error e) {
                        throw e;
                    }
                    throw new IllegalStateException("record handler failed", handlerFailure);
                }
                if (rc < 0) {
                    throw BpfException.of("reading the BPF ring buffer (ring_buffer__consume)", -rc, null);
                }
                return dispatched;
            } finally {
                handler = null;
                handlerFailure = null;
            }
        }
    }

    // upcall from ring_buffer__consume: must never throw
    private int onRecord(MemorySegment ctx, MemorySegment data, long size) {
        try {
            MemorySegment rec = data.reinterpret(size);
            int type = size >= 4 ? rec.get(JAVA_INT_UNALIGNED, 0) : -1;
            if (type == EVENT_SAMPLE) {
                if (!record.wrap(rec)) {
                    malformedRecords++;
                    return 0;
                }
                Faults.inject(Stage.DRAIN, record.pid());
                handler.onSample(record);
            } else if (type >= EVENT_NEW_PID && type <= MAX_PID_EVENT_TYPE && size >= PID_EVENT.byteSize()) {
                // every type after EXIT is a struct mw_pid_event (moonwalk.h), the core's (NEW_PID, UNKNOWN_PC,
                // EXEC) and the interpreter walkers' own requests alike: the handler forwards what it knows
                handler.onPidEvent(type, rec.get(JAVA_INT_UNALIGNED, PID_EVENT_PID),
                        rec.get(JAVA_LONG_UNALIGNED, PID_EVENT_PC));
            } else if (type == EVENT_EXIT && size >= EXIT.byteSize()) {
                handler.onExit(rec.get(JAVA_INT_UNALIGNED, EXIT_PID), rec.get(JAVA_LONG_UNALIGNED, EXIT_KTIME_NS));
            } else {
                unknownRecords++;
                return 0;
            }
            dispatched++;
            return 0;
        } catch (Throwable t) {
            try {
                // one record (one process's stack, one hostile event) must not stop the drain: counted, skipped
                Faults.contained(Stage.DRAIN, "handling a ring-buffer record", t);
                return 0;
            } catch (Throwable fatal) { // OutOfMemoryError, or an injected escape: the drain ends with it
                handlerFailure = fatal;
                return -1; // negative stops ring_buffer__consume
            }
        }
    }

    /** Records dropped because they did not parse or have a type this version does not handle. */
    public long malformedRecords() {
        synchronized (lock) {
            return malformedRecords + unknownRecords;
        }
    }

    /**
     * The object's maps (the native unwinder's pid_maps, unwind_* ...). Valid until {@link #close()}; after
     * that every operation throws {@link IllegalStateException}.
     */
    public BpfMaps maps() {
        return maps;
    }

    /** Number of CPUs with an attached perf event. */
    public int sampledCpus() {
        return perfEvents;
    }

    /** Per-CPU counters summed, indexed by {@code RecordLayout.STAT_*} (enum mw_stat). */
    public long[] stats() {
        synchronized (lock) {
            ensureOpen();
            int cpus = libbpf_h.libbpf_num_possible_cpus();
            if (cpus <= 0) {
                throw BpfException.of("counting possible CPUs (libbpf_num_possible_cpus)", -cpus, null);
            }
            long[] sums = new long[STAT_MAX];
            try (Arena a = Arena.ofConfined()) {
                MemorySegment key = a.allocate(JAVA_INT);
                MemorySegment values = a.allocate(JAVA_LONG, cpus);
                for (int i = 0; i < STAT_MAX; i++) {
                    key.set(JAVA_INT, 0, i);
                    int rc = libbpf_h.bpf_map__lookup_elem(statsMap, key, key.byteSize(), values, values.byteSize(), 0);
                    if (rc < 0) {
                        throw BpfException.of("reading the BPF stats map", -rc, null);
                    }
                    long sum = 0;
                    for (int c = 0; c < cpus; c++) {
                        sum += values.getAtIndex(JAVA_LONG, c);
                    }
                    sums[i] = sum;
                }
            }
            return sums;
        }
    }

    /** Adds a process to the PID filter of a sampler opened for specific pids. */
    public void addPid(int pid) {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid " + pid + " is not a process id");
        }
        synchronized (lock) {
            ensureOpen();
            if (!filtering) {
                throw new IllegalStateException("this sampler profiles the whole host; it has no PID filter");
            }
            putPid(pid);
        }
    }

    /**
     * Cumulative run time of {@code mw_sample}; only counts while {@link RunTimeStats#enable()} is
     * open.
     */
    public ProgramRunTime sampleProgramRunTime() {
        MemorySegment info = programInfo(SAMPLE_PROGRAM);
        return new ProgramRunTime(bpf_prog_info.name(info).getString(0), bpf_prog_info.run_time_ns(info),
                bpf_prog_info.run_cnt(info));
    }

    /** Kernel ids of the loaded programs (diagnostics: bpftool prog show id N). */
    public List<Integer> programIds() {
        return List.of(bpf_prog_info.id(programInfo(SAMPLE_PROGRAM)), bpf_prog_info.id(programInfo(WALK_PROGRAM)),
                bpf_prog_info.id(programInfo(EXIT_PROGRAM)));
    }

    /** Instructions the verifier processed when loading {@code program} (kernel 5.16+, else 0). */
    public int verifiedInstructions(String program) {
        return bpf_prog_info.verified_insns(programInfo(program));
    }

    private MemorySegment programInfo(String name) {
        synchronized (lock) {
            ensureOpen();
            MemorySegment info = bpf_prog_info.allocate(Arena.ofAuto());
            try (Arena a = Arena.ofConfined()) {
                MemorySegment len = a.allocate(JAVA_INT);
                len.set(JAVA_INT, 0, (int) bpf_prog_info.sizeof());
                int rc = libbpf_h.bpf_obj_get_info_by_fd(libbpf_h.bpf_program__fd(program(name)), info, len);
                if (rc < 0) {
                    throw BpfException.of("reading program info of " + name + " (bpf_obj_get_info_by_fd)", -rc, null);
                }
            }
            return info;
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the BPF sampler is closed");
        }
    }

    /** Detaches everything (closing the perf events), frees the ring buffer and unloads the object. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            if (handler != null) {
                // the lock is reentrant: freeing the ring buffer under ring_buffer__consume would crash
                throw new IllegalStateException("close() called from inside a RecordHandler; close after drain returns");
            }
            closed = true;
            maps.invalidate();
            for (MemorySegment link : links) {
                int rc = libbpf_h.bpf_link__destroy(link);
                if (rc < 0) {
                    LOG.log(Level.WARNING, "detaching a BPF link failed: {0}", BpfException.strerror(-rc));
                }
            }
            links.clear();
            if (!ringBuffer.equals(MemorySegment.NULL)) {
                libbpf_h.ring_buffer__free(ringBuffer); // before the arena that holds the upcall stub
                ringBuffer = MemorySegment.NULL;
            }
            if (!obj.equals(MemorySegment.NULL)) {
                libbpf_h.bpf_object__close(obj);
                obj = MemorySegment.NULL;
            }
            arena.close();
        }
    }
}
