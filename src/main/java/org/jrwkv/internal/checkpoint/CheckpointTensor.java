package org.jrwkv.internal.checkpoint;

import java.io.IOException;
import java.util.Arrays;
import org.jrwkv.internal.tensor.ElementType;

/**
 * One named tensor of a checkpoint, not yet mapped: its name, element type and shape are known
 * (and were validated against the file when the checkpoint was opened); {@link #map()} maps its
 * bytes when they are needed.
 *
 * <p>Internal: not part of the public API.
 */
public final class CheckpointTensor {

    /** Maps a tensor's bytes. */
    @FunctionalInterface
    public interface Mapper {
        /**
         * Maps the bytes.
         *
         * @return the mapped view, to be closed by the caller
         * @throws IOException if mapping fails
         */
        MappedTensor map() throws IOException;
    }

    private final String name;
    private final ElementType type;
    private final long[] shape;
    private final Mapper mapper;
    private final boolean parameter;

    /**
     * Creates a tensor entry.
     *
     * @param name      the state-dict key
     * @param type      element type
     * @param shape     PyTorch shape
     * @param parameter whether it was pickled as an {@code nn.Parameter}
     * @param mapper    maps its bytes on demand
     */
    public CheckpointTensor(String name, ElementType type, long[] shape, boolean parameter, Mapper mapper) {
        this.name = name;
        this.type = type;
        this.shape = shape.clone();
        this.parameter = parameter;
        this.mapper = mapper;
    }

    /** The state-dict key. */
    public String name() {
        return name;
    }

    /** The element type. */
    public ElementType type() {
        return type;
    }

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /** Whether it was an {@code nn.Parameter} (no effect on its data). */
    public boolean parameter() {
        return parameter;
    }

    /** Maps its bytes; close the result when done. */
    public MappedTensor map() throws IOException {
        return mapper.map();
    }

    /** The same tensor under another name. */
    public CheckpointTensor renamed(String newName) {
        return new CheckpointTensor(newName, type, shape, parameter, mapper);
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(shape);
    }
}
