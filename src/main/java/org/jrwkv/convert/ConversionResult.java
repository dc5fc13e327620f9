package org.jrwkv.convert;

import java.nio.file.Path;
import java.time.Duration;
import org.jrwkv.Architecture;
import org.jrwkv.DataType;

/**
 * What a conversion wrote.
 *
 * @param output        the model file
 * @param architecture  the detected architecture
 * @param vocabSize     header n_vocab
 * @param embeddingSize header n_embed
 * @param layerCount    header n_layer
 * @param dataType      FP16 or FP32 (the header's data_type)
 * @param tensorCount   number of tensor records
 * @param bytes         size of the file
 * @param elapsed       wall-clock time of the conversion
 */
public record ConversionResult(Path output, Architecture architecture, int vocabSize, int embeddingSize,
        int layerCount, DataType dataType, int tensorCount, long bytes, Duration elapsed) {
}
