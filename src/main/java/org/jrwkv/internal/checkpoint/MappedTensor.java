package org.jrwkv.internal.checkpoint;

import org.jrwkv.internal.tensor.ByteRegion;
import org.jrwkv.internal.tensor.TensorView;

/**
 * A checkpoint tensor whose bytes are mapped: the view is valid until {@link #close()}, which
 * unmaps them.
 *
 * @param view   the tensor's elements
 * @param region the mapping behind the view
 *
 * <p>Internal: not part of the public API.
 */
public record MappedTensor(TensorView view, ByteRegion region) implements AutoCloseable {

    @Override
    public void close() {
        region.close();
    }
}
