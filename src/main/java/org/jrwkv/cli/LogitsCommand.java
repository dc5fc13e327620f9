package org.jrwkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.jrwkv.Logits;
import org.jrwkv.ModelOptions;
import org.jrwkv.RwkvModel;
import org.jrwkv.RwkvState;
import org.jrwkv.internal.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jrwkv logits}: feeds the UTF-8 bytes of a text to a byte-level model (each byte is a
 * token, as with the tiny test models) and reports the logits after the last one.
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Feed the UTF-8 bytes of TEXT as tokens to a byte-level model (n_vocab 256) and show "
                + "the logits for the next token; optionally write them as raw float32 little-endian.")
final class LogitsCommand implements Callable<Integer> {

    /** How the tokens are fed. */
    enum Mode {
        /** One evaluation per token. */
        serial,
        /** All tokens in one evaluation. */
        sequence
    }

    private static final int BYTE_VOCAB = 256;
    private static final int TOP = 5;

    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "an rwkv.cpp model file")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "the prompt")
    String text;

    @Option(names = "--mode", defaultValue = "sequence", paramLabel = "MODE",
            description = "serial (one call per token) or sequence (one call for all); default: ${DEFAULT-VALUE}")
    Mode mode;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: processors, at most 8)")
    Integer threads;

    @Option(names = "--out", paramLabel = "FILE", description = "write the logits here (float32 little-endian)")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0) {
            throw new CliException("--text must not be empty");
        }
        int[] tokens = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            tokens[i] = bytes[i] & 0xFF;
        }
        ModelOptions options = threads == null ? ModelOptions.defaults() : ModelOptions.defaults().withThreads(threads);

        PrintWriter w = spec.commandLine().getOut();
        float[] logits;
        long loadStart = System.nanoTime();
        try (RwkvModel m = RwkvModel.load(model, options)) {
            long loadNanos = System.nanoTime() - loadStart;
            if (m.vocabSize() != BYTE_VOCAB) {
                throw new CliException("model " + model + " has a vocabulary of " + m.vocabSize()
                        + " tokens; 'logits' feeds bytes as tokens and needs a byte-level model (n_vocab 256)");
            }
            long evalNanos;
            try (RwkvState state = m.newState(); Logits buffer = m.newLogits()) {
                long start = System.nanoTime();
                if (mode == Mode.serial) {
                    // Only the last call needs the head; the state is identical either way.
                    for (int i = 0; i < tokens.length - 1; i++) {
                        m.eval(tokens[i], state, null);
                    }
                    m.eval(tokens[tokens.length - 1], state, buffer);
                } else {
                    m.evalSequence(tokens, state, buffer);
                }
                evalNanos = System.nanoTime() - start;
                logits = buffer.toArray();
            }

            w.printf("model    %s (RWKV v%s %s, n_vocab %d, n_embed %d, n_layer %d)%n", model,
                    m.architecture().version(), m.dataType(), m.vocabSize(), m.embeddingSize(), m.layerCount());
            w.printf("tokens   %d (UTF-8 bytes of the text)%n", tokens.length);
            w.printf("mode     %s, %d thread%s%n", mode, m.threads(), m.threads() == 1 ? "" : "s");
            w.printf(Locale.ROOT, "time     %s (%.1f tokens/s); load %s%n", Format.millis(evalNanos),
                    tokens.length / (evalNanos / 1e9), Format.millis(loadNanos));
            w.printf("top %d%n", TOP);
            int[] top = IntStream.range(0, logits.length).boxed()
                    .sorted(Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i))
                    .limit(TOP).mapToInt(Integer::intValue).toArray();
            for (int rank = 0; rank < top.length; rank++) {
                int t = top[rank];
                w.printf(Locale.ROOT, "  %d. token %3d %-8s logit %10.6f%n", rank + 1, t, show(t), logits[t]);
            }
        }
        if (out != null) {
            writeLogits(out, logits);
            w.printf("logits   written to %s (%d float32, little-endian)%n", out, BYTE_VOCAB);
        }
        w.flush();
        return 0;
    }

    /** A byte token shown as a character where it is printable ASCII. */
    private static String show(int token) {
        if (token == ' ') {
            return "' '";
        }
        if (token > 32 && token < 127) {
            return "'" + (char) token + "'";
        }
        return String.format(Locale.ROOT, "0x%02X", token);
    }

    private static void writeLogits(Path file, float[] logits) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(logits.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(logits);
        AtomicFiles.write(file, channel -> {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        });
    }
}
