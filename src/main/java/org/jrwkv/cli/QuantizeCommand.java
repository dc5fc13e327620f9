package org.jrwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jrwkv.DataType;
import org.jrwkv.Rwkv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jrwkv quantize IN OUT FORMAT}: rwkv.cpp's quantizer, byte for byte. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize an FP32 or FP16 model file to Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0 "
                + "(the same bytes as rwkv.cpp's quantizer). A failure leaves no output file.")
final class QuantizeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN", description = "an FP32 or FP16 model file")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "the quantized file to write")
    Path out;

    @Parameters(index = "2", paramLabel = "FORMAT", description = "Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0")
    String format;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        DataType type = Arrays.stream(DataType.values())
                .filter(t -> t.isQuantized() && t.name().equals(format))
                .findFirst()
                .orElseThrow(() -> new CliException("unknown format '" + format + "'; choose one of "
                        + Arrays.stream(DataType.values()).filter(DataType::isQuantized).map(DataType::name)
                                .collect(Collectors.joining(", "))));
        long start = System.nanoTime();
        Rwkv.quantize(in, out, type);
        long nanos = System.nanoTime() - start;
        PrintWriter w = spec.commandLine().getOut();
        w.printf("quantized %s (%s) to %s (%s, %s) in %s%n", in, Format.bytes(Files.size(in)), out,
                Format.bytes(Files.size(out)), type, Format.millis(nanos));
        w.flush();
        return 0;
    }
}
