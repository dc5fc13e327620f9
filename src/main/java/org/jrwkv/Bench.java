package org.jrwkv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.jrwkv.internal.MappedPages;
import org.jrwkv.internal.NativeLib;
import org.jrwkv.internal.RwkvNative;

/**
 * Measures the speed and memory of a model file on this machine, through the same Java API
 * programs use (what {@code jrwkv bench} prints), and this machine's memory read bandwidth,
 * which bounds decoding: every generated token reads every weight once, so no engine decodes
 * faster than {@code bandwidth / bytes read per token}.
 *
 * <p>One repeat: load the model; decode (one token at a time with logits, after 16 warm-up
 * tokens); prefill (a prompt in sequence mode, chunks of 64, logits after the last token); batch
 * (independent sessions stepped together with {@link RwkvModel#evalBatch}); close. The tokens are
 * a fixed pseudo-random sequence ({@code i * 2654435761 mod n_vocab}, as the engine's own
 * {@code rwkv_bench} uses), so runs compare. After the repeats: the peak resident memory, then
 * the read bandwidth with the same thread count (its buffer would otherwise count in the peak).
 */
public final class Bench {

    /** Warm-up tokens before decoding is timed. */
    public static final int WARM_UP_TOKENS = 16;
    /** Prompt tokens per evaluation call when prefilling. */
    public static final int PREFILL_CHUNK = 64;
    /** Passes of the bandwidth probe; it reports the best. */
    public static final int BANDWIDTH_PASSES = 3;

    private Bench() {
    }

    /**
     * What to measure.
     *
     * @param threads         worker threads of the model and of the bandwidth probe
     * @param tokens          decoded tokens per repeat (also the tokens of the batch run)
     * @param promptTokens    prompt tokens prefilled per repeat
     * @param batch           sessions of the batch run
     * @param repeats         repeats; each statistic is the min, median and max over them
     * @param bandwidthBuffer bytes the bandwidth probe streams through (far larger than the
     *                        last-level cache; 1 GiB by default)
     * @param gpuLayers       layers offloaded to a GPU backend ({@link ModelOptions#gpuLayers()});
     *                        0 by default. Only the CUDA variant of the library has one; the
     *                        report's system info says which backend ran ({@code GPU=...}).
     */
    public record Options(int threads, int tokens, int promptTokens, int batch, int repeats, long bandwidthBuffer,
            int gpuLayers) {

        /** Checks the values. */
        public Options {
            requireRange("threads", threads, 1, 256);
            requireRange("tokens", tokens, 1, Integer.MAX_VALUE);
            requireRange("prompt tokens", promptTokens, 1, Integer.MAX_VALUE);
            requireRange("batch", batch, 1, 4096);
            requireRange("repeats", repeats, 1, 1000);
            if (bandwidthBuffer < (1 << 20)) {
                throw new IllegalArgumentException("the bandwidth buffer must be at least 1 MiB, got " + bandwidthBuffer
                        + " bytes");
            }
            requireRange("GPU layers", gpuLayers, 0, Integer.MAX_VALUE);
        }

        /**
         * The defaults: {@link ModelOptions#defaults()}' threads, 128 tokens, 512 prompt tokens, 8
         * sessions, 3 repeats, a 1 GiB bandwidth buffer, no GPU layers.
         */
        public static Options defaults() {
            return new Options(ModelOptions.defaults().threads(), 128, 512, 8, 3, 1L << 30, 0);
        }

        /** These options with another thread count. */
        public Options withThreads(int value) {
            return new Options(value, tokens, promptTokens, batch, repeats, bandwidthBuffer, gpuLayers);
        }
    }

    /**
     * The minimum, median and maximum of some measurements.
     *
     * @param min    the smallest
     * @param median the median (for an even count, the mean of the middle two)
     * @param max    the largest
     */
    public record Stats(double min, double median, double max) {

        /** The statistics of {@code values} (at least one). */
        public static Stats of(double... values) {
            if (values.length == 0) {
                throw new IllegalArgumentException("no values");
            }
            double[] v = values.clone();
            Arrays.sort(v);
            int n = v.length;
            double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
            return new Stats(v[0], median, v[n - 1]);
        }
    }

    /**
     * The measurements of {@link #run}.
     *
     * @param model             the file
     * @param architecture      its architecture
     * @param dataType          its header data type
     * @param embeddingSize     n_embed
     * @param layerCount        n_layer
     * @param vocabSize         n_vocab
     * @param options           what was measured
     * @param loadSeconds       load time per repeat, in seconds
     * @param decode            decode speed per repeat, tokens/s
     * @param prefill           prefill speed per repeat, tokens/s
     * @param batch             batched decode speed per repeat, tokens/s over all sessions
     * @param peakRssAfterLoad  peak resident bytes after the first load (empty where the
     *                          platform does not say: only Linux does)
     * @param peakRssOneSession peak resident bytes after the first repeat's decode and prefill: the
     *                          model and one session, before the batch's extra sessions (each holds
     *                          a state)
     * @param peakRssAfterRun   peak resident bytes after the repeats, before the bandwidth probe
     * @param hugePageShare     the share of the model file's resident mapped bytes that are mapped
     *                          with 2 MiB pages, after the first decode (empty where the platform
     *                          does not say: only Linux does). Low for a file another program has
     *                          just written (README, "The engine")
     * @param bandwidth         read bandwidth in GB/s (10^9 bytes), measured after the repeats
     * @param bytesPerToken     bytes of weights read per decoded token ({@link #bytesReadPerToken})
     * @param systemInfo        the engine's CPU features and kernels ({@link Rwkv#systemInfo()})
     */
    public record Report(Path model, Architecture architecture, DataType dataType, int embeddingSize, int layerCount,
            int vocabSize, Options options, Stats loadSeconds, Stats decode, Stats prefill, Stats batch,
            OptionalLong peakRssAfterLoad, OptionalLong peakRssOneSession, OptionalLong peakRssAfterRun,
            OptionalDouble hugePageShare, double bandwidth, long bytesPerToken,
            String systemInfo) {

        /** The bandwidth bound: the decode speed if reading the weights were all the work, tokens/s. */
        public double boundTokensPerSecond() {
            return bandwidth * 1e9 / bytesPerToken;
        }
    }

    /**
     * Measures a model file; see the class comment for what a repeat does.
     *
     * @param model    an rwkv.cpp model file
     * @param options  what to measure
     * @param progress receives a short description of each phase as it starts (e.g.
     *                 {@code "repeat 2/3: decode"})
     * @return the measurements
     * @throws RwkvException if the model cannot be loaded or evaluated
     */
    public static Report run(Path model, Options options, Consumer<String> progress) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(progress, "progress");
        int repeats = options.repeats();
        double[] load = new double[repeats];
        double[] decode = new double[repeats];
        double[] prefill = new double[repeats];
        double[] batch = new double[repeats];
        OptionalLong rssAfterLoad = OptionalLong.empty();
        OptionalLong rssOneSession = OptionalLong.empty();
        OptionalDouble hugePageShare = OptionalDouble.empty();
        Architecture architecture = null;
        DataType dataType = null;
        int embeddingSize = 0;
        int layerCount = 0;
        int vocabSize = 0;
        long bytesPerToken = 0;
        for (int r = 0; r < repeats; r++) {
            String repeat = "repeat " + (r + 1) + "/" + repeats + ": ";
            progress.accept(repeat + "load");
            long start = System.nanoTime();
            try (RwkvModel m = RwkvModel.load(model, new ModelOptions(options.threads(), options.gpuLayers()))) {
                load[r] = (System.nanoTime() - start) / 1e9;
                if (r == 0) {
                    rssAfterLoad = peakResidentBytes();
                    architecture = m.architecture();
                    dataType = m.dataType();
                    embeddingSize = m.embeddingSize();
                    layerCount = m.layerCount();
                    vocabSize = m.vocabSize();
                    bytesPerToken = bytesReadPerToken(m);
                }
                progress.accept(repeat + "decode");
                decode[r] = decode(m, options.tokens());
                if (r == 0) {
                    hugePageShare = MappedPages.of(model).map(p -> OptionalDouble.of(p.hugeShare()))
                            .orElse(OptionalDouble.empty());
                }
                progress.accept(repeat + "prefill");
                prefill[r] = prefill(m, options.promptTokens());
                if (r == 0) {
                    rssOneSession = peakResidentBytes();
                }
                progress.accept(repeat + "batch");
                batch[r] = batch(m, options.batch(), options.tokens());
            }
        }
        OptionalLong rssAfterRun = peakResidentBytes();
        progress.accept("bandwidth");
        double bandwidth = readBandwidth(options.threads(), options.bandwidthBuffer(), BANDWIDTH_PASSES);
        return new Report(model, architecture, dataType, embeddingSize, layerCount, vocabSize, options, Stats.of(load),
                Stats.of(decode), Stats.of(prefill), Stats.of(batch), rssAfterLoad, rssOneSession, rssAfterRun,
                hugePageShare, bandwidth, bytesPerToken, Rwkv.systemInfo());
    }

    /** Token {@code i} of the benchmark sequence (the engine's rwkv_bench uses the same one). */
    static int token(long i, int vocab) {
        return (int) ((i * 2654435761L) % vocab);
    }

    private static int[] tokens(int from, int count, int vocab) {
        int[] t = new int[count];
        for (int i = 0; i < count; i++) {
            t[i] = token(from + (long) i, vocab);
        }
        return t;
    }

    /** Tokens/s of single-token evaluation with logits, after the warm-up. */
    private static double decode(RwkvModel m, int count) {
        int[] sequence = tokens(0, Math.max(count, WARM_UP_TOKENS), m.vocabSize());
        try (RwkvState state = m.newState(); Logits logits = m.newLogits()) {
            for (int i = 0; i < WARM_UP_TOKENS; i++) {
                m.eval(sequence[i], state, logits);
            }
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                m.eval(sequence[i], state, logits);
            }
            return count / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** Tokens/s of a prompt in sequence mode (chunks of 64, logits after the last token only). */
    private static double prefill(RwkvModel m, int count) {
        int[] sequence = tokens(0, count, m.vocabSize());
        int[] head = Arrays.copyOf(sequence, count - 1);
        try (RwkvState state = m.newState(); Logits logits = m.newLogits()) {
            long start = System.nanoTime();
            if (head.length > 0) {
                m.evalSequence(head, PREFILL_CHUNK, state, null);
            }
            m.eval(sequence[count - 1], state, logits);
            return count / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** Tokens/s over all sessions of batched decoding: {@code tokens / sessions} steps (at least 1). */
    private static double batch(RwkvModel m, int sessions, int tokens) {
        int steps = Math.max(1, tokens / sessions);
        int[][] stepTokens = new int[steps][];
        for (int s = 0; s < steps; s++) {
            stepTokens[s] = tokens(s % 8, sessions, m.vocabSize());
        }
        RwkvState[] states = new RwkvState[sessions];
        Logits[] logits = new Logits[sessions];
        try {
            for (int i = 0; i < sessions; i++) {
                states[i] = m.newState();
                logits[i] = m.newLogits();
            }
            m.evalBatch(tokens(0, sessions, m.vocabSize()), states, logits); // warm-up
            long start = System.nanoTime();
            for (int s = 0; s < steps; s++) {
                m.evalBatch(stepTokens[s], states, logits);
            }
            return (double) steps * sessions / ((System.nanoTime() - start) / 1e9);
        } finally {
            for (int i = 0; i < sessions; i++) {
                if (states[i] != null) {
                    states[i].close();
                }
                if (logits[i] != null) {
                    logits[i].close();
                }
            }
        }
    }

    /**
     * Bytes of weights one decoded token reads: every tensor the model uses, except the embedding
     * matrix, of which one row is read.
     */
    public static long bytesReadPerToken(RwkvModel model) {
        long total = 0;
        for (TensorInfo t : model.tensors()) {
            if (t.name().equals("emb.weight")) {
                long rows = t.dims().size() > 1 ? t.dims().get(1) : 1;
                total += t.bytes() / rows;
            } else if (t.used()) {
                total += t.bytes();
            }
        }
        return total;
    }

    /**
     * This machine's memory read bandwidth: {@code threads} threads stream through a buffer of
     * {@code bufferBytes} (make it several times the last-level cache), the best of
     * {@code passes} passes (the engine's own probe, {@code rwkv_measure_read_bandwidth}).
     *
     * @return GB/s (10^9 bytes per second)
     * @throws IllegalStateException if the buffer cannot be allocated
     */
    public static double readBandwidth(int threads, long bufferBytes, int passes) {
        requireRange("threads", threads, 1, 256);
        requireRange("passes", passes, 1, 1000);
        if (bufferBytes < (1 << 20)) {
            throw new IllegalArgumentException("the buffer must be at least 1 MiB, got " + bufferBytes + " bytes");
        }
        NativeLib.ensureLoaded();
        double gbPerSecond = RwkvNative.rwkv_measure_read_bandwidth(threads, bufferBytes, passes);
        if (!(gbPerSecond > 0)) {
            throw new IllegalStateException("cannot measure the read bandwidth: no memory for a buffer of "
                    + bufferBytes + " bytes");
        }
        return gbPerSecond;
    }

    /**
     * The peak resident memory of this process so far ({@code VmHWM} of
     * {@code /proc/self/status}); empty where the platform does not say (everywhere but Linux).
     */
    public static OptionalLong peakResidentBytes() {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return OptionalLong.empty();
        }
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    long value = Long.parseLong(parts[0]);
                    return OptionalLong.of(parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value);
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }

    private static void requireRange(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be " + min + " to " + max + ", got " + value);
        }
    }
}
