package org.jrwkv.internal.convert;

import java.util.Arrays;
import java.util.Map;
import org.jrwkv.convert.CheckpointException;
import org.jrwkv.internal.tensor.TensorView;

/**
 * Checks of planned output shapes against what the loader expects, with messages that name the
 * tensor, its shape and the expected one.
 *
 * <p>Internal: not part of the public API.
 */
final class ShapeRules {

    private final String source;
    private final Map<String, long[]> shapes;
    private final long embed;

    ShapeRules(String source, Map<String, long[]> shapes, long embed) {
        this.source = source;
        this.shapes = shapes;
        this.embed = embed;
    }

    private long[] get(String name) throws CheckpointException {
        long[] s = shapes.get(name);
        if (s == null) {
            throw new CheckpointException(source + ": missing tensor " + name);
        }
        return s;
    }

    /** The tensor exists and has exactly this (converted, PyTorch-order) shape. */
    void require(String name, long... expected) throws CheckpointException {
        long[] s = get(name);
        if (!Arrays.equals(s, expected)) {
            throw new CheckpointException(source + ": tensor " + name + " has shape " + Arrays.toString(s)
                    + ", expected " + Arrays.toString(expected));
        }
    }

    /** The tensor exists and holds this many elements (head-shaped tensors, whose layout varies with squeeze). */
    void requireElements(String name, long count) throws CheckpointException {
        long[] s = get(name);
        if (TensorView.checkedNumel(s) != count) {
            throw new CheckpointException(source + ": tensor " + name + " has shape " + Arrays.toString(s)
                    + ", expected " + count + " elements");
        }
    }

    /** RWKV-5.1 per-head tensors: (H, 1, 1) with H dividing n_embed. */
    void requireHeads(String name) throws CheckpointException {
        long[] s = get(name);
        if (s.length != 3 || s[1] != 1 || s[2] != 1 || s[0] < 1 || embed % s[0] != 0) {
            throw new CheckpointException(source + ": tensor " + name + " has shape " + Arrays.toString(s)
                    + ", expected [heads, 1, 1] with heads dividing " + embed);
        }
    }

    /** Dimension {@code d} of an existing tensor. */
    long dim(String name, int d) throws CheckpointException {
        long[] s = get(name);
        if (s.length <= d) {
            throw new CheckpointException(source + ": tensor " + name + " has shape " + Arrays.toString(s)
                    + ", expected at least " + (d + 1) + " dimensions");
        }
        return s[d];
    }
}
