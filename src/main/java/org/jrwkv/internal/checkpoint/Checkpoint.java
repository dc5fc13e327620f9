package org.jrwkv.internal.checkpoint;

import java.io.Closeable;
import java.util.List;

/**
 * An opened checkpoint: its tensors in checkpoint order, each mapped on demand. Closing releases
 * the file.
 *
 * <p>Internal: not part of the public API.
 */
public interface Checkpoint extends Closeable {

    /** A name for messages (usually the file name). */
    String source();

    /** The tensors in checkpoint order (state-dict insertion order; data order for safetensors). */
    List<CheckpointTensor> tensors();
}
