package org.jrwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jrwkv.DataType;
import org.jrwkv.convert.ConversionResult;
import org.jrwkv.convert.ConvertOptions;
import org.jrwkv.convert.Converter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jrwkv convert IN OUT [--dtype fp16|fp32]}: a PyTorch checkpoint to a model file. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a PyTorch RWKV checkpoint (.pth, .safetensors, or a Hugging Face RWKV-4 folder or"
                + " index) to a model file, byte for byte like rwkv.cpp's converter (RWKV v4, v5.1, v5.2, v6, v7).",
            "The checkpoint is read without Python and never executed; a failure leaves no output file."})
final class ConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN", description = "the checkpoint: .pth, .safetensors, *.index.json or a folder")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "the model file to write")
    Path out;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "fp16",
            description = "fp16 (matrices as float16, like rwkv.cpp's FP16) or fp32 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        DataType type;
        switch (dtype.toLowerCase(Locale.ROOT)) {
            case "fp16":
            case "float16":
                type = DataType.FP16;
                break;
            case "fp32":
            case "float32":
                type = DataType.FP32;
                break;
            default:
                throw new CliException("unknown --dtype '" + dtype + "'; choose fp16 or fp32");
        }
        ConversionResult r = Converter.convert(in, out,
                ConvertOptions.defaults().withDataType(type).withProgress(ProgressBars.forConsole()));
        PrintWriter w = spec.commandLine().getOut();
        w.printf("converted %s to %s: RWKV v%s, n_vocab %d, n_embed %d, n_layer %d, %d tensors, %s, %s in %s%n", in, out,
                r.architecture().version(), r.vocabSize(), r.embeddingSize(), r.layerCount(), r.tensorCount(),
                r.dataType(), Format.bytes(r.bytes()), Format.millis(r.elapsed().toNanos()));
        w.flush();
        return 0;
    }
}
