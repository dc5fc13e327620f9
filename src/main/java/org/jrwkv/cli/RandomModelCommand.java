package org.jrwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jrwkv.Architecture;
import org.jrwkv.DataType;
import org.jrwkv.RandomModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jrwkv random-model}: a model file of a real shape with random weights ({@link RandomModel}). */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = "Write a model file of a real shape with random weights (for benchmarks and tests "
                + "without downloads; the text it generates means nothing). The same seed gives the same file.")
final class RandomModelCommand implements Callable<Integer> {

    @Option(names = "--arch", required = true, paramLabel = "ARCH", description = "v4, v5.1, v5.2, v6 or v7")
    String arch;

    @Option(names = "--embed", required = true, paramLabel = "N",
            description = "n_embed, a multiple of 32 (768: 0.1B, 1024: 0.4B, 2048: 1.5B, 2560: 3B, 4096: 7B)")
    int embed;

    @Option(names = "--layers", required = true, paramLabel = "N", description = "n_layer (12, 24, 32, ...)")
    int layers;

    @Option(names = "--vocab", defaultValue = "65536", paramLabel = "N",
            description = "n_vocab (65536 World, 50277 GPT-NeoX, 256 bytes); default: ${DEFAULT-VALUE}")
    int vocab;

    @Option(names = "--dtype", defaultValue = "fp16", paramLabel = "TYPE",
            description = "fp32, fp16, q4_0, q4_1, q5_0, q5_1 or q8_0; default: ${DEFAULT-VALUE}")
    String dtype;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "random seed; default: ${DEFAULT-VALUE}")
    long seed;

    @Parameters(index = "0", paramLabel = "OUT", description = "the model file to write")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        RandomModel model;
        try {
            model = new RandomModel(architecture(arch), embed, layers, vocab, dataType(dtype), seed);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        long start = System.nanoTime();
        model.write(out);
        long nanos = System.nanoTime() - start;
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "wrote %s: RWKV v%s %s, n_embed %d, n_layer %d, n_vocab %d, seed %d; %s in %.1f s%n", out,
                model.architecture().version(), model.dataType(), embed, layers, vocab, seed,
                Format.bytes(Files.size(out)), nanos / 1e9);
        w.flush();
        return 0;
    }

    /** "v7", "7", "v5.2" → the architecture. */
    static Architecture architecture(String name) {
        String version = name.toLowerCase(Locale.ROOT).startsWith("v") ? name.substring(1) : name;
        for (Architecture a : Architecture.values()) {
            if (a.version().equals(version)) {
                return a;
            }
        }
        throw new CliException("unknown architecture '" + name + "'; choose one of " + Arrays.stream(Architecture.values())
                .map(a -> "v" + a.version()).collect(Collectors.joining(", ")));
    }

    /** "fp16", "Q5_1" → the data type. */
    static DataType dataType(String name) {
        for (DataType t : DataType.values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new CliException("unknown data type '" + name + "'; choose one of " + Arrays.stream(DataType.values())
                .map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")));
    }
}
