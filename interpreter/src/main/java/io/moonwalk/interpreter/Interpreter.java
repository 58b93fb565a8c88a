package io.moonwalk.interpreter;

import io.moonwalk.frame.Frame;
import io.moonwalk.unwinder.sync.MappingExtension;
import java.util.Map;

/**
 * One plugin's part of one profiling session. The methods say which thread calls them:
 * <ul>
 *   <li>map-sync thread: {@link #mappings()} — per-file detection and per-file data installed for the kernel
 *       walker, refcounted over the processes that map the file;</li>
 *   <li>drain thread: {@link #sampled}, {@link #process}, {@link #pidEvent}, {@link #processExited} — cheap, no
 *       blocking, nothing avoidable allocated per sample;</li>
 *   <li>window end (the thread that names a closed window): {@link #beforeNaming}, the per-process
 *       {@link InterpreterProcess#frame} and {@link InterpreterProcess#labels};</li>
 *   <li>any thread: {@link #stats}, which must not wait for the plugin's slow work (memory reads, syncs).</li>
 * </ul>
 */
public interface Interpreter extends AutoCloseable {
    /** The plugin's name ({@link InterpreterPlugin#name()}). */
    String name();

    /** Detect per file, per-file data, per-process mapping state: the hook the native map sync calls. */
    MappingExtension mappings();

    /** Whether frames of {@code kind} (enum {@code mw_frame_kind}) are this interpreter's to name. */
    boolean namesFrameKind(int kind);

    /**
     * A sample of {@code pid} carried interpreter context {@code context} (the record's {@code vm} field, non-zero)
     * in state {@code state}. Returns the sample's label key (0: no labels), which the core stores with the
     * aggregated stack and hands back to {@link InterpreterProcess#labels}. Drain thread.
     */
    long sampled(int pid, long context, int state, FrameWords stack);

    /**
     * The per-process instance of {@code pid}, or null when {@code pid} is not known to run this interpreter (yet).
     * Asked on the drain thread while the process is alive, until it answers; the core keeps the answer until the
     * process exited and its last window was named, so a process that exits mid-window is still named.
     */
    InterpreterProcess process(int pid);

    /**
     * Names a frame of a kind this interpreter owns in a process it never gave an instance for (its binary was not
     * known while the process lived): an explicit marker frame, counted by the plugin. Window end.
     */
    Frame frameWithoutProcess(int pid, FrameWords stack, int i, boolean afterNative, NativeNames natives);

    /**
     * The sample labels of {@code labelKey} (from {@link #sampled}; empty when the key is not this interpreter's)
     * for a stack of {@code pid}, whose instance is {@code process} (null: none was learned). Window end.
     */
    Map<String, String> labels(int pid, long labelKey, InterpreterProcess process, FrameWords stack,
            NativeNames natives);

    /** Text for an unwind error reason (enum {@code mw_error_reason}) of this interpreter's walker, or null. */
    default String errorReason(int reason) {
        return null;
    }

    /** A kernel request about {@code pid} ({@code EVENT_*} of the record layout, {@code pc} where it has one). */
    void pidEvent(int type, int pid, long pc);

    /** {@code pid} exited (its instance stays with the core until the window is named). Drain thread. */
    void processExited(int pid);

    /**
     * Waits, at most {@code maxWaitNanos}, until the syncs that samples and {@link #pidEvent}s started have run (e.g.
     * routing a VM's JIT code). A live session never waits (the next samples see the result); a coredump replay,
     * where nothing runs on, walks again after it.
     */
    default void awaitSyncs(long maxWaitNanos) {
    }

    /** A window is about to be named: finish reads started for it, waiting at most {@code maxWaitNanos}. */
    void beforeNaming(long maxWaitNanos);

    /**
     * An immutable snapshot of the plugin's figures, rendered with the kernel's counters {@code kernelStats}
     * (enum {@code mw_stat}; the plugin reads its own indices). Any thread; never waits for slow work.
     */
    InterpreterStats stats(long[] kernelStats);

    /** Stops the plugin's threads. The map-sync hook is not called after this. */
    @Override
    void close();
}
