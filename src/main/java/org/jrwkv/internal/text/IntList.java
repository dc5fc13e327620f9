package org.jrwkv.internal.text;

import java.util.Arrays;

/**
 * A growable list of ints without boxing: the token buffers of encoders and generation loops.
 *
 * <p>Internal: not part of the public API. Not thread-safe.
 */
public final class IntList {

    private int[] values;
    private int size;

    /** An empty list with room for {@code capacity} values before it grows. */
    public IntList(int capacity) {
        values = new int[Math.max(4, capacity)];
    }

    /** An empty list. */
    public IntList() {
        this(16);
    }

    /** Appends one value. */
    public void add(int value) {
        if (size == values.length) {
            grow(size + 1);
        }
        values[size++] = value;
    }

    /** Appends {@code count} values of {@code source} from {@code offset}. */
    public void addAll(int[] source, int offset, int count) {
        ensureCapacity(size + count);
        System.arraycopy(source, offset, values, size, count);
        size += count;
    }

    /** Appends all values of {@code source}. */
    public void addAll(int[] source) {
        addAll(source, 0, source.length);
    }

    /** Makes room for at least {@code capacity} values. */
    public void ensureCapacity(int capacity) {
        if (capacity > values.length) {
            grow(capacity);
        }
    }

    private void grow(int minimum) {
        if (minimum < 0) {
            throw new OutOfMemoryError("list too large");
        }
        int capacity = (int) Math.min(Integer.MAX_VALUE - 8L, Math.max(minimum, values.length * 2L));
        values = Arrays.copyOf(values, capacity);
    }

    /** The value at {@code index}. */
    public int get(int index) {
        if (index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " of " + size);
        }
        return values[index];
    }

    /** Replaces the value at {@code index}. */
    public void set(int index, int value) {
        if (index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " of " + size);
        }
        values[index] = value;
    }

    /** Number of values. */
    public int size() {
        return size;
    }

    /** Removes every value (keeps the capacity). */
    public void clear() {
        size = 0;
    }

    /** Shortens the list to {@code newSize} values. */
    public void truncate(int newSize) {
        if (newSize < 0 || newSize > size) {
            throw new IndexOutOfBoundsException("size " + newSize + " of " + size);
        }
        size = newSize;
    }

    /**
     * Sets the size after values were written directly into {@link #array()} (up to its length).
     */
    public void truncateOrExtend(int newSize) {
        if (newSize < 0 || newSize > values.length) {
            throw new IndexOutOfBoundsException("size " + newSize + " of capacity " + values.length);
        }
        size = newSize;
    }

    /** The backing array (valid up to {@link #size()}); changes when the list grows. */
    public int[] array() {
        return values;
    }

    /** The values in a new array. */
    public int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
