package io.moonwalk.unwinder.cfi;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Interns {@link UnwindRule}s across all files so the kernel keeps one array of distinct rules and each table
 * entry stores only a 16-bit index into it. Index 0 is always {@link UnwindRule#INVALID}, so a zeroed entry in a
 * kernel map means "no unwind info".
 *
 * <p>Bounded: at most {@link #MAX_RULES} rules (the u16 index space). When full, {@link #intern} returns -1 and
 * the caller records the row as UNSUPPORTED and counts the drop. Rules are never removed, so indices handed out
 * stay valid for the life of the dictionary.
 */
public final class RuleDictionary {
    public static final int MAX_RULES = 1 << 16;

    private final Map<UnwindRule, Integer> index = new HashMap<>();
    private final int capacity;
    private volatile UnwindRule[] rules;
    private volatile int size;

    public RuleDictionary() {
        this(MAX_RULES);
    }

    /** A dictionary with a smaller limit (tests, or a kernel rule array sized below 2^16). */
    public RuleDictionary(int capacity) {
        if (capacity < 4 || capacity > MAX_RULES) {
            throw new IllegalArgumentException("rule dictionary capacity must be in [4, " + MAX_RULES + "], got "
                    + capacity);
        }
        this.capacity = capacity;
        this.rules = new UnwindRule[Math.min(capacity, 256)];
        intern(UnwindRule.INVALID);
        intern(UnwindRule.UNSUPPORTED);
        intern(UnwindRule.END);
        intern(UnwindRule.SIGNAL);
    }

    /** The rule's index, adding it if new; -1 when the dictionary is full. */
    public synchronized int intern(UnwindRule rule) {
        Integer existing = index.get(rule);
        if (existing != null) {
            return existing;
        }
        if (size == capacity) {
            return -1;
        }
        UnwindRule[] arr = rules;
        if (size == arr.length) {
            UnwindRule[] grown = new UnwindRule[Math.min(capacity, arr.length * 2)];
            System.arraycopy(arr, 0, grown, 0, size);
            arr = grown;
        }
        arr[size] = rule;
        rules = arr;
        index.put(rule, size);
        return size++;
    }

    /** The rule at an index previously returned by {@link #intern}. Lock-free: called on every lookup. */
    public UnwindRule get(int ruleIndex) {
        return rules[ruleIndex];
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    /** The rules from index {@code from} on, in index order: the part of the kernel's rule array not written yet. */
    public synchronized UnwindRule[] rulesFrom(int from) {
        return Arrays.copyOfRange(rules, Math.min(from, size), size);
    }
}
