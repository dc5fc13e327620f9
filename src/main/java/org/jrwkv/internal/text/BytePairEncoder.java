package org.jrwkv.internal.text;

import java.util.Arrays;

/**
 * Byte-level BPE over one pre-token: its UTF-8 bytes start as one symbol each (the vocabulary id
 * of the byte's character), then, repeatedly, the adjacent pair with the lowest merge rank is
 * merged (ties: the leftmost), until no adjacent pair has a merge.
 *
 * <p>Short pieces (almost all words) are merged by scanning all pairs each round. Long ones use a
 * heap of candidate pairs ordered by (rank, position), with stale entries skipped, so that a
 * pathological megabyte-long pre-token costs O(n log n) rather than O(n²): the order of merges is
 * the same, since the smallest (rank, position) among valid pairs is exactly "lowest rank,
 * leftmost".
 *
 * <p>Internal: not part of the public API. Immutable and thread-safe once built.
 */
public final class BytePairEncoder {

    private static final long NONE = -1;
    private static final int SCAN_LIMIT = 48;

    private final LongLongMap merges;
    private final int[] byteSymbol;

    /**
     * @param merges     (left id &lt;&lt; 32 | right id) → (rank &lt;&lt; 32 | merged id)
     * @param byteSymbol the id of each byte's single-character symbol, or -1 if it has none
     */
    public BytePairEncoder(LongLongMap merges, int[] byteSymbol) {
        this.merges = merges;
        this.byteSymbol = byteSymbol.clone();
    }

    /** The merge key of a pair of ids. */
    public static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** The merge value of a rank and the merged id. */
    public static long mergeValue(int rank, int merged) {
        return ((long) rank << 32) | (merged & 0xFFFFFFFFL);
    }

    /**
     * Encodes the bytes {@code utf8[from, to)} of one pre-token, appending ids to {@code out}.
     *
     * @throws IllegalArgumentException if a byte has no symbol (only bytes that never occur in
     *                                  valid UTF-8 lack one in GPT-NeoX's vocabulary)
     */
    public void encode(byte[] utf8, int from, int to, IntList out) {
        int n = to - from;
        int[] symbols = new int[n];
        for (int i = 0; i < n; i++) {
            int b = utf8[from + i] & 0xFF;
            int id = byteSymbol[b];
            if (id < 0) {
                throw new IllegalArgumentException(String.format("the vocabulary has no symbol for the byte 0x%02X", b));
            }
            symbols[i] = id;
        }
        if (n <= SCAN_LIMIT) {
            n = mergeByScanning(symbols, n);
            out.addAll(symbols, 0, n);
        } else {
            mergeWithHeap(symbols, out);
        }
    }

    private int mergeByScanning(int[] symbols, int n) {
        while (n > 1) {
            long best = Long.MAX_VALUE;
            int at = -1;
            for (int i = 0; i + 1 < n; i++) {
                long m = merges.get(pairKey(symbols[i], symbols[i + 1]), NONE);
                if (m != NONE && m < best) { // rank in the high bits: smaller value = lower rank
                    best = m;
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            symbols[at] = (int) best;
            System.arraycopy(symbols, at + 2, symbols, at + 1, n - at - 2);
            n--;
        }
        return n;
    }

    private void mergeWithHeap(int[] ids, IntList out) {
        int n = ids.length;
        int[] next = new int[n];
        int[] prev = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            push(heap, ids, i, i + 1);
        }
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32);
            int left = (int) top;
            if (dead[left] || next[left] < 0) {
                continue;
            }
            int right = next[left];
            long m = merges.get(pairKey(ids[left], ids[right]), NONE);
            if (m == NONE || (int) (m >>> 32) != rank) {
                continue; // stale: this position now holds another pair
            }
            ids[left] = (int) m;
            dead[right] = true;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                push(heap, ids, prev[left], left);
            }
            if (next[left] >= 0) {
                push(heap, ids, left, next[left]);
            }
        }
        for (int i = 0; i >= 0; i = next[i]) {
            out.add(ids[i]);
        }
    }

    private void push(LongHeap heap, int[] ids, int left, int right) {
        long m = merges.get(pairKey(ids[left], ids[right]), NONE);
        if (m != NONE) {
            heap.push((m & 0xFFFFFFFF00000000L) | left);
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] items;
        private int size;

        LongHeap(int capacity) {
            items = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long value) {
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (items[parent] <= value) {
                    break;
                }
                items[i] = items[parent];
                i = parent;
            }
            items[i] = value;
        }

        long pop() {
            long top = items[0];
            long last = items[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && items[child + 1] < items[child]) {
                    child++;
                }
                if (items[child] >= last) {
                    break;
                }
                items[i] = items[child];
                i = child;
            }
            items[i] = last;
            return top;
        }
    }
}
