package io.moonwalk.agent.record;

import io.moonwalk.agent.aggregate.RawStackTable;
import io.moonwalk.agent.bpf.BpfSampler;
import io.moonwalk.agent.bpf.RecordHandler;
import io.moonwalk.agent.bpf.RecordLayout;
import io.moonwalk.agent.bpf.SampleRecord;
import io.moonwalk.agent.bpf.SamplerOptions;
import io.moonwalk.agent.process.ProcessRegistry;
import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.symbolize.StackSymbolizer;
import io.moonwalk.symbolizer.kernel.KernelSymbols;
import io.moonwalk.symbolizer.symbols.NativeSymbolizer;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One bounded recording: attach, drain the ring buffer on a timer into the raw stack table, detach,
 * then name the frames. The sampler is detached before any output is written.
 */
public final class Recording implements RecordHandler {
    /** How often the ring buffer is drained: batches, never one wake-up per sample. */
    static final Duration DRAIN_INTERVAL = Duration.ofMillis(200);

    private final SamplerOptions options;
    private final Duration duration;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final RawStackTable table = new RawStackTable(1 << 20, 64 << 20);
    private final ProcessRegistry processes;
    private final NativeSymbolizer nativeSymbolizer;
    private final Set<Integer> targets;
    private final Set<Integer> exitedTargets = new HashSet<>();
    private final long[] scratch = new long[RecordLayout.MAX_FRAME_WORDS];
    private long[] kernelStats = new long[0];
    private volatile BpfSampler sampler;
    private long startEpochNanos;
    private long elapsedNanos;
    private boolean targetsGone;

    public Recording(SamplerOptions options, Duration duration) {
        this.options = options;
        this.duration = duration;
        this.targets = Set.copyOf(options.pids());
        this.nativeSymbolizer = new NativeSymbolizer();
        this.processes = new ProcessRegistry(nativeSymbolizer, 8192);
    }

    /** Asks a running recording to stop early (signal handlers call this). */
    public void requestStop() {
        stop.set(true);
    }

    /** Called once the sampler is attached, e.g. to tell the user recording has begun. */
    public interface Listener {
        void attached(BpfSampler sampler);
    }

    /** Samples until the duration elapsed, a stop was requested, or every target process exited. */
    public void run(Listener listener) throws InterruptedException {
        try (BpfSampler s = BpfSampler.open(options)) {
            sampler = s;
            startEpochNanos = System.currentTimeMillis() * 1_000_000L;
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            listener.attached(s);
            while (!stop.get() && !targetsGone) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                Thread.sleep(Math.max(1, Math.min(DRAIN_INTERVAL.toMillis(), (end - now) / 1_000_000)));
                s.drain(this);
            }
            s.drain(this);
            elapsedNanos = System.nanoTime() - start;
            kernelStats = s.stats();
        } finally {
            sampler = null;
        }
    }

    /** Closes the sampler if a recording is still attached (shutdown hook safety net). */
    public void detachNow() {
        BpfSampler s = sampler;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public void onSample(SampleRecord r) {
        int pid = r.pid();
        int n = Math.min(r.frameWords(), scratch.length);
        for (int i = 0; i < n; i++) {
            scratch[i] = r.frameWord(i);
        }
        if (processes.find(pid) == null) {
            processes.get(pid, r.comm());
        }
        table.add(pid, r.tid(), r.commWord(0), r.commWord(1), scratch, n, r.kernelFrames(), 0L, 1L);
    }

    @Override
    public void onExit(int pid, long ktimeNanos) {
        processes.exited(pid);
        if (targets.contains(pid)) {
            exitedTargets.add(pid);
            if (exitedTargets.size() == targets.size()) {
                targetsGone = true;
            }
        }
    }

    /** Names every frame of the recording. Call after {@link #run}. */
    public Profile profile() {
        KernelSymbols kernel;
        try {
            kernel = KernelSymbols.load();
        } catch (Exception e) {
            kernel = null;
        }
        StackSymbolizer symbolizer = new StackSymbolizer(kernel, processes);
        long period = 1_000_000_000L / options.hz();
        return symbolizer.symbolize(table, startEpochNanos, elapsedNanos, period, StackSymbolizer.LabelDecoder.NONE);
    }

    public boolean targetsGone() {
        return targetsGone;
    }

    public long droppedInAgent() {
        return table.droppedSamples();
    }

    public long[] kernelStats() {
        return kernelStats.clone();
    }

    public Duration elapsed() {
        return Duration.ofNanos(elapsedNanos);
    }
}
