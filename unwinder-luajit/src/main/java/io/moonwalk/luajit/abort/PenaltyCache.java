package io.moonwalk.luajit.abort;

import java.util.List;

/**
 * {@code J->penalty[]} of one VM at one moment, with {@code J->penaltyslot} (the round-robin index the next new
 * site takes).
 *
 * @param pid      the process
 * @param g        the VM identity
 * @param slots    the 64 slots in index order
 * @param nextSlot {@code J->penaltyslot}
 */
public record PenaltyCache(int pid, long g, List<PenaltySlot> slots, int nextSlot) {
    /** PENALTY_SLOTS. */
    public static final int SLOTS = 64;

    public PenaltyCache {
        slots = List.copyOf(slots);
        if (slots.size() != SLOTS) {
            throw new IllegalArgumentException("a penalty cache has " + SLOTS + " slots, got " + slots.size());
        }
    }
}
