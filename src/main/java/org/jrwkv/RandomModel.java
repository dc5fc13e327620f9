package org.jrwkv;

import java.nio.file.Path;
import java.util.Objects;
import org.jrwkv.internal.NativeLib;
import org.jrwkv.internal.RwkvNative;

/**
 * The shape of a model file with random weights, for benchmarks and tests of real-sized models
 * without downloads: {@code new RandomModel(Architecture.V7, 1024, 24, 65536, DataType.FP16, 1)
 * .write(path)} writes a valid file of the RWKV-7 0.4B shape (about 0.9 GB).
 *
 * <p>The weights are in the ranges trained models have, so logits are finite and the engine does
 * the same work as on a real model; the text they produce means nothing. Tensors get the types
 * rwkv.cpp's converter and quantizer would give them (in a quantized file the small vectors stay
 * FP32); head size 64, FFN and LoRA widths as in the released models. The same seed gives the
 * same weights in every data type, and the same file on every machine.
 *
 * @param architecture  the architecture
 * @param embeddingSize n_embed: a positive multiple of 32, at most 65536 (real models: 768,
 *                      1024, 2048, 2560, 4096)
 * @param layerCount    n_layer: 1 to 1024
 * @param vocabSize     n_vocab: 1 to 2^24 (World models: 65536; GPT-NeoX: 50277; bytes: 256)
 * @param dataType      the file's data type
 * @param seed          the random seed
 */
public record RandomModel(Architecture architecture, int embeddingSize, int layerCount, int vocabSize,
        DataType dataType, long seed) {

    /** Checks the values (the engine's limits). */
    public RandomModel {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(dataType, "dataType");
        if (embeddingSize < 32 || embeddingSize > 65536 || embeddingSize % 32 != 0) {
            throw new IllegalArgumentException("embedding size must be a positive multiple of 32, at most 65536; got "
                    + embeddingSize);
        }
        if (layerCount < 1 || layerCount > 1024) {
            throw new IllegalArgumentException("layer count must be 1 to 1024; got " + layerCount);
        }
        if (vocabSize < 1 || vocabSize > (1 << 24)) {
            throw new IllegalArgumentException("vocabulary size must be 1 to 16777216; got " + vocabSize);
        }
    }

    /**
     * Writes the model file. It is written to a temporary file beside {@code out} and renamed when
     * complete, so a failure leaves no partial file (and an existing {@code out} unchanged).
     *
     * @param out the file to write
     * @throws RwkvException if the file cannot be written
     */
    public void write(Path out) {
        Objects.requireNonNull(out, "out");
        NativeLib.applyThreadPrintFlag();
        boolean ok;
        try (NativeLib.Utf8 path = new NativeLib.Utf8(out.toString());
             NativeLib.Utf8 type = new NativeLib.Utf8(dataType.name())) {
            ok = RwkvNative.rwkv_write_random_model(path.pointer(), architecture.code(), embeddingSize, layerCount,
                    vocabSize, type.pointer(), seed);
        }
        if (!ok) {
            throw NativeErrors.global("Cannot write random model " + out);
        }
    }

    @Override
    public String toString() {
        return "RandomModel[RWKV v" + architecture.version() + " " + dataType + ", n_embed " + embeddingSize
                + ", n_layer " + layerCount + ", n_vocab " + vocabSize + ", seed " + seed + "]";
    }
}
