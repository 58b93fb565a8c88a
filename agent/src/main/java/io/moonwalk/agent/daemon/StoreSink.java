package io.moonwalk.agent.daemon;

import io.moonwalk.agent.profile.Profile;
import io.moonwalk.agent.store.ProfileStore;
import java.io.IOException;
import java.time.Duration;

/** Windows go to the rolling {@link ProfileStore} on local disk. */
public final class StoreSink implements WindowSink {
    private final ProfileStore store;

    public StoreSink(ProfileStore store) {
        this.store = store;
    }

    @Override
    public String name() {
        return "store";
    }

    @Override
    public void accept(Profile window) throws IOException {
        store.write(window);
    }

    @Override
    public boolean healthy() {
        return store.lastError() == null;
    }

    @Override
    public String status() {
        String err = store.lastError();
        return err == null
                ? "store: " + store.windowCount() + " windows, " + store.totalBytes() + " bytes in " + store.directory()
                : "store: last write to " + store.directory() + " failed: " + err;
    }

    @Override
    public void finish(Duration timeout) {
        // writes are synchronous: nothing pending
    }

    public ProfileStore store() {
        return store;
    }
}
