package org.jrwkv.models;

import java.util.Objects;
import org.jrwkv.DataType;
import org.jrwkv.ProgressListener;

/**
 * Options of {@link ModelStore#pull}.
 *
 * @param type           the model file wanted: FP16 or FP32 (converted), or a quantized type
 *                       (converted to FP16, then quantized; the FP16 file is kept as the source of
 *                       other quantizations)
 * @param keepCheckpoint keep the downloaded PyTorch checkpoint after conversion (by default it is
 *                       deleted once the FP16/FP32 file exists)
 * @param progress       receives download, conversion and quantization progress
 */
public record PullOptions(DataType type, boolean keepCheckpoint, ProgressListener progress) {

    /** Checks the components. */
    public PullOptions {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(progress, "progress");
    }

    /** FP16, checkpoint deleted, no progress. */
    public static PullOptions defaults() {
        return new PullOptions(DataType.FP16, false, ProgressListener.NONE);
    }

    /** These options with another type. */
    public PullOptions withType(DataType newType) {
        return new PullOptions(newType, keepCheckpoint, progress);
    }

    /** These options with another progress listener. */
    public PullOptions withProgress(ProgressListener listener) {
        return new PullOptions(type, keepCheckpoint, listener);
    }

    /** These options, keeping the checkpoint or not. */
    public PullOptions withKeepCheckpoint(boolean keep) {
        return new PullOptions(type, keep, progress);
    }
}
