package io.moonwalk.agent.store;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The agent's stores, one per {@link ProfileKind} it records, in one directory: always the CPU store, with
 * {@code --off-cpu} and {@code --mmap-events} the event stores beside it.
 */
public final class ProfileStores {
    /** The share of the size bound each event kind's store gets; the CPU store gets the rest. */
    public static final int EVENT_SHARE_DIVISOR = 4;

    private final Map<ProfileKind, ProfileStore> stores;

    /** @param stores at most one per kind, the CPU store among them */
    public ProfileStores(List<ProfileStore> stores) {
        EnumMap<ProfileKind, ProfileStore> m = new EnumMap<>(ProfileKind.class);
        for (ProfileStore s : stores) {
            if (m.put(s.kind(), s) != null) {
                throw new IllegalArgumentException("two " + s.kind() + " stores");
            }
        }
        if (!m.containsKey(ProfileKind.CPU)) {
            throw new IllegalArgumentException("the stores need a CPU store");
        }
        this.stores = Collections.unmodifiableMap(m);
    }

    /**
     * Opens the stores of {@code kinds} (CPU always) in {@code dir}: each event kind's gets a
     * 1/{@value #EVENT_SHARE_DIVISOR} of {@code maxBytes} and the CPU store the rest, so together they stay within it.
     */
    public static ProfileStores open(Path dir, long maxBytes, Duration maxAge, Clock clock, Set<ProfileKind> kinds)
            throws IOException {
        long eventBytes = maxBytes / EVENT_SHARE_DIVISOR;
        long cpuBytes = maxBytes;
        List<ProfileStore> out = new java.util.ArrayList<>();
        for (ProfileKind k : kinds) {
            if (k != ProfileKind.CPU) {
                out.add(new ProfileStore(dir, Math.max(1, eventBytes), maxAge, clock, k));
                cpuBytes -= eventBytes;
            }
        }
        out.addFirst(new ProfileStore(dir, Math.max(1, cpuBytes), maxAge, clock, ProfileKind.CPU));
        return new ProfileStores(out);
    }

    public ProfileStore cpu() {
        return stores.get(ProfileKind.CPU);
    }

    /** The store of {@code kind}, or null when the agent does not record that kind. */
    public ProfileStore get(ProfileKind kind) {
        return stores.get(kind);
    }

    /** The kinds recorded, CPU first. */
    public Set<ProfileKind> kinds() {
        return stores.keySet();
    }

    /** Every store, CPU first. */
    public Collection<ProfileStore> all() {
        return stores.values();
    }
}
