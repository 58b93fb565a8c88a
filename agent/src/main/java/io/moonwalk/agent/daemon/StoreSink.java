package io.moonwalk.agent.daemon;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.session.SessionStats;
import io.moonwalk.agent.store.ProfileKind;
import io.moonwalk.agent.store.ProfileStore;
import io.moonwalk.agent.store.ProfileStores;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Windows go to the rolling {@link ProfileStores} on local disk: the CPU profile with the interpreter VMs' health at
 * the time it is written ({@link VmGauges}) and the window's trace-abort sites ({@link WindowAbortSites}) for the web
 * view's JIT health charts, and each event profile the agent records (off-CPU, mmap calls) to its own store.
 */
public final class StoreSink implements WindowSink {
    private final ProfileStores stores;
    private final Supplier<SessionStats> stats;

    public StoreSink(ProfileStores stores, Supplier<SessionStats> stats) {
        this.stores = stores;
        this.stats = stats;
    }

    @Override
    public String name() {
        return "store";
    }

    @Override
    public void accept(Window window) throws IOException {
        // VM health: levels when the window is written; abort sites: the window's own (taken when it was named)
        stores.cpu().write(window.cpu(), VmGauges.of(stats.get().interpreters()), WindowAbortSites.of(window.sites()));
        IOException failed = null;
        for (ProfileKind k : stores.kinds()) {
            Profile p = switch (k) {
                case CPU -> null; // written above
                case OFF_CPU -> window.offCpu();
                case MMAP -> window.mmap();
            };
            if (p != null) {
                try {
                    stores.get(k).write(p);
                } catch (IOException e) {
                    failed = failed == null ? e : failed; // one kind's failure does not cost the others
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    @Override
    public boolean healthy() {
        return stores.all().stream().allMatch(s -> s.lastError() == null);
    }

    @Override
    public String status() {
        for (ProfileStore s : stores.all()) {
            if (s.lastError() != null) {
                return "store: last " + s.kind().id() + " write to " + s.directory() + " failed: " + s.lastError();
            }
        }
        StringBuilder sb = new StringBuilder("store: ");
        for (ProfileStore s : stores.all()) {
            sb.append(s.kind() == ProfileKind.CPU ? "" : "; " + s.kind().title() + ": ").append(s.windowCount())
                    .append(" windows, ").append(s.totalBytes()).append(" bytes");
            if (s.kind() == ProfileKind.CPU) {
                sb.append(" in ").append(s.directory());
            }
        }
        return sb.toString();
    }

    @Override
    public void finish(Duration timeout) {
        // writes are synchronous: nothing pending
    }

    public ProfileStores stores() {
        return stores;
    }
}
