package org.jrwkv.convert;

import java.util.Objects;
import org.jrwkv.DataType;
import org.jrwkv.ProgressListener;

/**
 * Options of a conversion.
 *
 * @param dataType FP16 (matrices stored as float16, the rest float32, like rwkv.cpp's converter)
 *                 or FP32 (everything float32)
 * @param progress receives the bytes written
 */
public record ConvertOptions(DataType dataType, ProgressListener progress) {

    /**
     * Checks the options.
     *
     * @throws IllegalArgumentException if the data type is not FP16 or FP32 (quantize afterwards
     *                                  with {@link org.jrwkv.Rwkv#quantize})
     */
    public ConvertOptions {
        Objects.requireNonNull(dataType, "dataType");
        Objects.requireNonNull(progress, "progress");
        if (dataType != DataType.FP16 && dataType != DataType.FP32) {
            throw new IllegalArgumentException("convert writes FP16 or FP32 files, not " + dataType
                    + " (quantize the converted file afterwards)");
        }
    }

    /** FP16 output, no progress reporting. */
    public static ConvertOptions defaults() {
        return new ConvertOptions(DataType.FP16, ProgressListener.NONE);
    }

    /** These options with another output type. */
    public ConvertOptions withDataType(DataType type) {
        return new ConvertOptions(type, progress);
    }

    /** These options with another progress listener. */
    public ConvertOptions withProgress(ProgressListener listener) {
        return new ConvertOptions(dataType, listener);
    }
}
