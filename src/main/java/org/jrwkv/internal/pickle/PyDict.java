package org.jrwkv.internal.pickle;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python {@code dict} or {@code collections.OrderedDict} read from a pickle, in insertion order.
 *
 * <p>Internal: not part of the public API.
 */
public final class PyDict {

    private final Map<Object, Object> entries = new LinkedHashMap<>();
    private final boolean ordered;

    /**
     * Creates an empty map.
     *
     * @param ordered true for an {@code OrderedDict}
     */
    public PyDict(boolean ordered) {
        this.ordered = ordered;
    }

    /** Whether this was an {@code OrderedDict}. */
    public boolean ordered() {
        return ordered;
    }

    /** The entries in insertion order (live view). */
    public Map<Object, Object> entries() {
        return entries;
    }

    @Override
    public String toString() {
        return (ordered ? "OrderedDict" : "dict") + " of " + entries.size();
    }
}
