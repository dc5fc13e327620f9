package org.jrwkv.internal.pickle;

import java.util.List;

/**
 * A Python tuple read from a pickle.
 *
 * @param items the elements (unmodifiable; may contain null for None)
 *
 * <p>Internal: not part of the public API.
 */
public record PyTuple(List<Object> items) {

    /** Number of elements. */
    public int size() {
        return items.size();
    }

    /** Element {@code i}. */
    public Object get(int i) {
        return items.get(i);
    }
}
