package org.jrwkv.convert;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.jrwkv.DataType;
import org.jrwkv.internal.AtomicFiles;
import org.jrwkv.internal.FileCache;
import org.jrwkv.internal.checkpoint.Checkpoint;
import org.jrwkv.internal.checkpoint.Checkpoints;
import org.jrwkv.internal.convert.ConversionPlan;
import org.jrwkv.internal.convert.ModelFileWriter;

/**
 * Converts PyTorch RWKV checkpoints into rwkv.cpp model files, without Python: the same bytes as
 * rwkv.cpp's {@code convert_pytorch_to_ggml.py} for RWKV v4, v5.1, v5.2, v6 and v7.
 *
 * <p>Inputs, recognised by content:
 * <ul>
 *   <li>a {@code torch.save} zip checkpoint ({@code .pth}, {@code .bin}) holding a dict or
 *       OrderedDict of tensors in float32, float16, bfloat16 or float64;</li>
 *   <li>a {@code .safetensors} file (tensors taken in data order);</li>
 *   <li>a Hugging Face sharded checkpoint (its {@code *.index.json}) or model folder; Hugging Face
 *       {@code transformers} RWKV-4 names ({@code rwkv.embeddings.weight}, ...) are mapped back.</li>
 * </ul>
 *
 * <p>Checkpoints are untrusted input: the pickle inside a {@code .pth} is read by a small machine
 * that never runs anything and refuses every global outside torch's tensor-rebuild whitelist (a
 * pickle naming {@code os.system} fails with that name in the message); every zip offset, storage
 * size, shape and stride is checked against the file before use. Other torch formats (pre-1.6
 * legacy files, TorchScript archives) are refused.
 *
 * <p>The checkpoint is memory-mapped and converted tensor by tensor, each mapping released when
 * its tensor is written, so memory use does not grow with the model. The output goes to a
 * temporary file beside the target that is renamed when complete: a failure never leaves a partial
 * file.
 */
public final class Converter {

    private Converter() {
    }

    /**
     * Converts a checkpoint to an FP16 model file.
     *
     * @see #convert(Path, Path, ConvertOptions)
     */
    public static ConversionResult convert(Path input, Path output) throws IOException {
        return convert(input, output, ConvertOptions.defaults());
    }

    /**
     * Converts a checkpoint.
     *
     * @param input   a checkpoint file, a Hugging Face index JSON or model folder
     * @param output  the model file to write (replaced if it exists)
     * @param options output type and progress listener
     * @return what was written
     * @throws CheckpointException if the input is not a valid checkpoint of a supported architecture
     *                             (nothing is written)
     * @throws IOException         if reading or writing fails (nothing is written)
     */
    public static ConversionResult convert(Path input, Path output, ConvertOptions options) throws IOException {
        long start = System.nanoTime();
        boolean fp16 = options.dataType() == DataType.FP16;
        try (Checkpoint checkpoint = Checkpoints.open(input)) {
            ConversionPlan plan = ConversionPlan.create(checkpoint.source(), checkpoint.tensors(), fp16);
            options.progress().start("convert " + checkpoint.source(), plan.outputBytes());
            try {
                AtomicFiles.write(output, channel -> new ModelFileWriter(channel, options.progress()::update).write(plan));
                FileCache.dropCachedPages(output);
            } finally {
                options.progress().finish();
            }
            return new ConversionResult(output, plan.architecture(), plan.vocabSize(), plan.embeddingSize(),
                    plan.layerCount(), options.dataType(), plan.tensorCount(), plan.outputBytes(),
                    Duration.ofNanos(System.nanoTime() - start));
        }
    }
}
