package io.moonwalk.agent.daemon;

import io.moonwalk.agent.session.SessionStats;
import io.moonwalk.agent.store.ProfileStore;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Windows go to the rolling {@link ProfileStore} on local disk, each with the interpreter VMs'
 * health at the time it is written ({@link VmGauges}) for the web view's JIT health charts; a window's
 * off-CPU profile ({@code --off-cpu}) goes to the off-CPU store in the same directory.
 */
public final class StoreSink implements WindowSink {
    private final ProfileStore store;
    private final ProfileStore offCpuStore;
    private final Supplier<SessionStats> stats;

    public StoreSink(ProfileStore store) {
        this(store, null, () -> SessionStats.NONE);
    }

    public StoreSink(ProfileStore store, Supplier<SessionStats> stats) {
        this(store, null, stats);
    }

    /** @param offCpuStore where off-CPU profiles go; null when the agent records none */
    public StoreSink(ProfileStore store, ProfileStore offCpuStore, Supplier<SessionStats> stats) {
        this.store = store;
        this.offCpuStore = offCpuStore;
        this.stats = stats;
    }

    @Override
    public String name() {
        return "store";
    }

    @Override
    public void accept(Window window) throws IOException {
        store.write(window.cpu(), VmGauges.of(stats.get().interpreters()));
        if (offCpuStore != null && window.offCpu() != null) {
            offCpuStore.write(window.offCpu());
        }
    }

    @Override
    public boolean healthy() {
        return store.lastError() == null && (offCpuStore == null || offCpuStore.lastError() == null);
    }

    @Override
    public String status() {
        String err = store.lastError();
        if (err == null && offCpuStore != null && offCpuStore.lastError() != null) {
            return "store: last off-CPU write to " + offCpuStore.directory() + " failed: " + offCpuStore.lastError();
        }
        return err == null
                ? "store: " + store.windowCount() + " windows, " + store.totalBytes() + " bytes in " + store.directory()
                        + (offCpuStore == null ? "" : "; off-CPU: " + offCpuStore.windowCount() + " windows, "
                        + offCpuStore.totalBytes() + " bytes")
                : "store: last write to " + store.directory() + " failed: " + err;
    }

    @Override
    public void finish(Duration timeout) {
        // writes are synchronous: nothing pending
    }

    public ProfileStore store() {
        return store;
    }

    /** The off-CPU store, or null. */
    public ProfileStore offCpuStore() {
        return offCpuStore;
    }
}
