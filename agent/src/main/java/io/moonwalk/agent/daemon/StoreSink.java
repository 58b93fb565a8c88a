package io.moonwalk.agent.daemon;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.session.SessionStats;
import io.moonwalk.agent.store.ProfileStore;
import io.moonwalk.interpreter.InterpreterStats;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * Windows go to the rolling {@link ProfileStore} on local disk, each with the interpreter VMs'
 * health at the time it is written ({@link VmGauges}) and the window's trace-abort sites
 * ({@link WindowAbortSites}) for the web view's JIT health charts.
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

    /** @param offCpuStore where off-CPU profiles ({@code --off-cpu}) go, next to the CPU windows; null when none */
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
    public void accept(Profile window) throws IOException {
        accept(window, List.of());
    }

    @Override
    public void accept(Profile window, List<InterpreterStats.SiteCount> sites) throws IOException {
        // VM health: levels when the window is written; abort sites: the window's own (taken when it was named)
        store.write(window, VmGauges.of(stats.get().interpreters()), WindowAbortSites.of(sites));
    }

    @Override
    public void accept(Window window) throws IOException {
        accept(window.cpu(), window.sites());
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
