package org.jrwkv.internal.text;

import java.util.Arrays;

/**
 * An open-addressing hash map from {@code long} to {@code long} (linear probing), without boxing:
 * the BPE merge table. Keys must not be {@link #EMPTY}.
 *
 * <p>Internal: not part of the public API. Not thread-safe while being filled; safe to read from
 * many threads once filled.
 */
public final class LongLongMap {

    /** The one key that cannot be stored (marks free slots). */
    public static final long EMPTY = Long.MIN_VALUE;

    private long[] keys;
    private long[] values;
    private int mask;
    private int size;

    /** A map sized for about {@code expected} entries. */
    public LongLongMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    /** Stores {@code value} under {@code key} unless the key is present; returns whether it was added. */
    public boolean putIfAbsent(long key, long value) {
        if (key == EMPTY) {
            throw new IllegalArgumentException("key " + key + " is reserved");
        }
        if ((size + 1) * 2 > keys.length) {
            rehash();
        }
        int i = hash(key) & mask;
        while (keys[i] != EMPTY) {
            if (keys[i] == key) {
                return false;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
        return true;
    }

    /** The value of {@code key}, or {@code missing}. */
    public long get(long key, long missing) {
        int i = hash(key) & mask;
        long k;
        while ((k = keys[i]) != EMPTY) {
            if (k == key) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return missing;
    }

    /** Number of entries. */
    public int size() {
        return size;
    }

    private void rehash() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                putIfAbsent(oldKeys[i], oldValues[i]);
            }
        }
    }
}
