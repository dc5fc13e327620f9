package org.jrwkv.internal.text;

import java.util.Arrays;

/**
 * A byte trie for greedy longest-match tokenization (the RWKV World tokenizer): at each position
 * walk down from the root while the next byte has an edge, remember the last node that ends a
 * token, emit that token and continue after it.
 *
 * <p>Layout, chosen so that encoding allocates nothing and touches few cache lines: nodes are
 * numbered in breadth-first order, so the children of a node have consecutive numbers and every
 * node but the root is reached by exactly one edge, whose byte is stored at the child's number
 * ({@code label}). A node with many children (the root and the nodes near it) also has a direct
 * table of 256 child numbers; the others are searched linearly in their few sorted labels.
 *
 * <p>Internal: not part of the public API. Immutable and thread-safe once built.
 */
public final class ByteTrie {

    /** Nodes with at least this many children get a direct table. */
    private static final int DENSE_MIN_CHILDREN = 12;

    private final int[] tokenOf;
    private final int[] firstChild;
    private final int[] childCount;
    private final byte[] label;
    private final int[] denseOffset;
    private final int[] densePool;

    private ByteTrie(int[] tokenOf, int[] firstChild, int[] childCount, byte[] label, int[] denseOffset,
            int[] densePool) {
        this.tokenOf = tokenOf;
        this.firstChild = firstChild;
        this.childCount = childCount;
        this.label = label;
        this.denseOffset = denseOffset;
        this.densePool = densePool;
    }

    /** Thrown by {@link #build} when two entries have the same bytes. */
    public static final class DuplicateKeyException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int first;
        private final int second;

        DuplicateKeyException(int first, int second) {
            super("tokens " + first + " and " + second + " have the same bytes");
            this.first = first;
            this.second = second;
        }

        /** One of the two ids. */
        public int first() {
            return first;
        }

        /** The other id. */
        public int second() {
            return second;
        }
    }

    /**
     * Builds the trie of {@code keys[i] → ids[i]}.
     *
     * @param keys non-empty byte strings, all different
     * @param ids  the token id of each key (non-negative)
     * @throws DuplicateKeyException    if two keys are equal
     * @throws IllegalArgumentException if a key is empty
     */
    public static ByteTrie build(byte[][] keys, int[] ids) {
        int n = keys.length;
        Integer[] order = new Integer[n];
        long totalBytes = 0;
        for (int i = 0; i < n; i++) {
            if (keys[i].length == 0) {
                throw new IllegalArgumentException("token " + ids[i] + " has no bytes");
            }
            order[i] = i;
            totalBytes += keys[i].length;
        }
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(keys[a], keys[b]));
        byte[][] sorted = new byte[n][];
        int[] sortedIds = new int[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = keys[order[i]];
            sortedIds[i] = ids[order[i]];
        }
        if (totalBytes + 1 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("vocabulary too large");
        }
        // Each byte of each key creates at most one node.
        int bound = (int) totalBytes + 1;
        int[] lo = new int[bound];
        int[] hi = new int[bound];
        int[] depth = new int[bound];
        int[] tokenOf = new int[bound];
        int[] firstChild = new int[bound];
        int[] childCount = new int[bound];
        byte[] label = new byte[bound];
        Arrays.fill(tokenOf, -1);
        lo[0] = 0;
        hi[0] = n;
        int nodes = 1;
        // Breadth-first: node k's range of sorted keys shares the first depth[k] bytes.
        for (int k = 0; k < nodes; k++) {
            int a = lo[k];
            int b = hi[k];
            int d = depth[k];
            if (a < b && sorted[a].length == d) {
                tokenOf[k] = sortedIds[a];
                if (a + 1 < b && sorted[a + 1].length == d) {
                    throw new DuplicateKeyException(sortedIds[a], sortedIds[a + 1]);
                }
                a++;
            }
            firstChild[k] = nodes;
            int i = a;
            while (i < b) {
                byte c = sorted[i][d];
                int j = i + 1;
                while (j < b && sorted[j][d] == c) {
                    j++;
                }
                lo[nodes] = i;
                hi[nodes] = j;
                depth[nodes] = d + 1;
                label[nodes] = c;
                nodes++;
                childCount[k]++;
                i = j;
            }
        }
        int denseNodes = 0;
        for (int k = 0; k < nodes; k++) {
            if (k == 0 || childCount[k] >= DENSE_MIN_CHILDREN) {
                denseNodes++;
            }
        }
        int[] denseOffset = new int[nodes];
        int[] densePool = new int[denseNodes * 256];
        int next = 0;
        for (int k = 0; k < nodes; k++) {
            if (k == 0 || childCount[k] >= DENSE_MIN_CHILDREN) {
                denseOffset[k] = next;
                for (int c = firstChild[k]; c < firstChild[k] + childCount[k]; c++) {
                    densePool[next + (label[c] & 0xFF)] = c;
                }
                next += 256;
            } else {
                denseOffset[k] = -1;
            }
        }
        return new ByteTrie(Arrays.copyOf(tokenOf, nodes), Arrays.copyOf(firstChild, nodes),
                Arrays.copyOf(childCount, nodes), Arrays.copyOf(label, nodes), denseOffset, densePool);
    }

    /** Number of nodes (for tests and diagnostics). */
    public int nodeCount() {
        return tokenOf.length;
    }

    /** The child of {@code node} along byte {@code b}, or 0 if there is none (0 is the root). */
    private int child(int node, int b) {
        int dense = denseOffset[node];
        if (dense >= 0) {
            return densePool[dense + b];
        }
        int first = firstChild[node];
        int end = first + childCount[node];
        for (int c = first; c < end; c++) {
            int l = label[c] & 0xFF;
            if (l == b) {
                return c;
            }
            if (l > b) {
                return 0;
            }
        }
        return 0;
    }

    /**
     * Greedy longest-match tokenization of {@code text[from, to)}, appending ids to {@code out}.
     *
     * @throws IllegalArgumentException if a byte starts no token at all
     */
    public void encode(byte[] text, int from, int to, IntList out) {
        out.ensureCapacity(out.size() + (to - from));
        int[] tokens = out.array();
        int count = out.size();
        int pos = from;
        while (pos < to) {
            int node = densePool[text[pos] & 0xFF];
            int bestId = node == 0 ? -1 : tokenOf[node];
            int bestEnd = pos + 1;
            int p = pos + 1;
            while (node != 0 && p < to) {
                node = child(node, text[p] & 0xFF);
                p++;
                if (node != 0 && tokenOf[node] >= 0) {
                    bestId = tokenOf[node];
                    bestEnd = p;
                }
            }
            if (bestId < 0) {
                throw new IllegalArgumentException(String.format("no token starts with the byte 0x%02X (offset %d)",
                        text[pos] & 0xFF, pos - from));
            }
            tokens[count++] = bestId;
            pos = bestEnd;
        }
        out.truncateOrExtend(count);
    }
}
