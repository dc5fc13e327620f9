package org.jrwkv;

import java.util.List;
import java.util.Objects;

/**
 * One tensor record of a loaded model file, in file order.
 *
 * @param name   the tensor's name, e.g. {@code blocks.0.att.key.weight}
 * @param type   its data type
 * @param dims   its sizes, fastest-varying first (ggml order, the PyTorch shape reversed); one to
 *               three entries
 * @param offset file offset of its data
 * @param bytes  size of its data in bytes
 * @param used   false if the model's architecture does not use it (such records are skipped)
 */
public record TensorInfo(String name, DataType type, List<Long> dims, long offset, long bytes, boolean used) {

    /** Checks and copies the components; {@code dims} becomes unmodifiable. */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        dims = List.copyOf(dims);
    }

    /** Number of elements (the product of {@link #dims()}). */
    public long elements() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }
}
