package org.jrwkv.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import org.jrwkv.Bench;
import org.jrwkv.ModelOptions;
import org.jrwkv.Rwkv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jrwkv bench}: speed and memory of a model file ({@link Bench#run}), or with
 * {@code --bandwidth} this machine's memory read bandwidth at 1..N threads.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure a model: load time, decode, prefill and batched decode tokens/s, peak RSS, and the "
                + "memory read bandwidth measured in the same run, with the bound it sets (bandwidth / bytes read "
                + "per token) and decode / bound. Min, median and max over the repeats.",
            "With --bandwidth: measure the read bandwidth at 1..N threads.",
            "With --json, the last line of standard output is one JSON object (the best of the repeats as "
                + "decode_tok_s, prefill_tok_s, batch_tok_s, load_s, and the medians as *_median)."})
final class BenchCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", paramLabel = "FILE", description = "the model file to measure")
    Path model;

    @Option(names = "--bandwidth", description = "measure only the memory read bandwidth, at 1..N threads")
    boolean bandwidthOnly;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: processors, at most 8)")
    Integer threads;

    @Option(names = "--tokens", defaultValue = "128", paramLabel = "N",
            description = "decoded tokens per repeat, after 16 warm-up tokens; default: ${DEFAULT-VALUE}")
    int tokens;

    @Option(names = "--prompt-tokens", defaultValue = "512", paramLabel = "N",
            description = "prompt tokens prefilled in sequence mode (chunks of 64); default: ${DEFAULT-VALUE}")
    int promptTokens;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N",
            description = "sessions decoded together with the batch API; default: ${DEFAULT-VALUE}")
    int batch;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N", description = "repeats; default: ${DEFAULT-VALUE}")
    int repeats;

    @Option(names = "--buffer-mib", defaultValue = "1024", paramLabel = "MIB",
            description = "buffer of the bandwidth probe, far larger than the caches; default: ${DEFAULT-VALUE}")
    int bufferMib;

    @Option(names = "--gpu-layers", defaultValue = "0", paramLabel = "N",
            description = "layers offloaded to the GPU (the CUDA variant of the library; n_layer + 1 puts the head "
                    + "there too); default: ${DEFAULT-VALUE}")
    int gpuLayers;

    @Option(names = "--json", description = "end with one line of JSON")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (bandwidthOnly == (model != null)) {
            throw new CliException(bandwidthOnly ? "--bandwidth measures the machine alone; leave out --model"
                    : "give --model FILE (or --bandwidth to measure the memory bandwidth)");
        }
        Bench.Options options;
        try {
            options = new Bench.Options(threads == null ? ModelOptions.defaults().threads() : threads, tokens,
                    promptTokens, batch, repeats, (long) bufferMib << 20, gpuLayers);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        Progress progress = new Progress(spec.commandLine().getErr());
        try {
            if (bandwidthOnly) {
                bandwidth(options, out, progress);
            } else {
                Bench.Report report = Bench.run(model, options, progress);
                progress.clear();
                print(report, out);
                if (json) {
                    out.println(json(report));
                }
            }
        } finally {
            progress.clear();
        }
        out.flush();
        return 0;
    }

    private void print(Bench.Report r, PrintWriter w) {
        Bench.Options o = r.options();
        w.printf(Locale.ROOT, "model      %s%n", r.model());
        w.printf(Locale.ROOT, "           RWKV v%s %s, n_embed %d, n_layer %d, n_vocab %d; %.1f MB read per token%n",
                r.architecture().version(), r.dataType(), r.embeddingSize(), r.layerCount(), r.vocabSize(),
                r.bytesPerToken() / 1e6);
        w.printf(Locale.ROOT, "engine     %d thread%s%s; %s%n", o.threads(), o.threads() == 1 ? "" : "s",
                o.gpuLayers() == 0 ? "" : ", " + o.gpuLayers() + " GPU layers requested", r.systemInfo());
        w.printf(Locale.ROOT, "%-18s %10s %10s %10s%n", "(" + o.repeats() + " repeat" + (o.repeats() == 1 ? ")" : "s)"),
                "median", "min", "max");
        row(w, "load s", r.loadSeconds(), "%10.4f", "");
        row(w, "decode tok/s", r.decode(), "%10.2f", o.tokens() + " tokens after " + Bench.WARM_UP_TOKENS + " warm-up");
        row(w, "prefill tok/s", r.prefill(), "%10.2f", o.promptTokens() + " tokens, chunks of " + Bench.PREFILL_CHUNK);
        row(w, "batch " + o.batch() + " tok/s", r.batch(), "%10.2f",
                Math.max(1, o.tokens() / o.batch()) + " steps of " + o.batch() + " sessions");
        w.printf(Locale.ROOT, "peak RSS   %s after load, %s with one session, %s after the run (%d sessions)%n",
                mib(r.peakRssAfterLoad()), mib(r.peakRssOneSession()), mib(r.peakRssAfterRun()), o.batch());
        if (r.hugePageShare().isPresent()) {
            double share = r.hugePageShare().getAsDouble();
            w.printf(Locale.ROOT, "mapping    %.0f%% of the resident weights in 2 MiB pages%s%n", 100 * share,
                    share < 0.5 ? " (a file just written by another program is cached in small pages, which decode"
                            + " slower: README, \"The engine\")" : "");
        }
        double bound = r.boundTokensPerSecond();
        w.printf(Locale.ROOT, "bandwidth  %.1f GB/s (%d thread%s, %d MiB buffer, after the run)%n", r.bandwidth(),
                o.threads(), o.threads() == 1 ? "" : "s", o.bandwidthBuffer() >> 20);
        w.printf(Locale.ROOT, "bound      %.2f tok/s; decode / bound %.2f (median), %.2f (best)%n", bound,
                r.decode().median() / bound, r.decode().max() / bound);
    }

    private static void row(PrintWriter w, String name, Bench.Stats s, String format, String note) {
        w.printf(Locale.ROOT, "%-18s " + format + " " + format + " " + format + "   %s%n", name, s.median(), s.min(),
                s.max(), note);
    }

    private static String mib(OptionalLong bytes) {
        return bytes.isPresent() ? String.format(Locale.ROOT, "%.1f MiB", bytes.getAsLong() / 1048576.0) : "n/a";
    }

    /** The report as one line of JSON; the plain keys hold the best of the repeats. */
    static String json(Bench.Report r) {
        Bench.Options o = r.options();
        ObjectNode n = JSON.createObjectNode();
        double bound = r.boundTokensPerSecond();
        n.put("decode_tok_s", round(r.decode().max(), 3));
        n.put("prefill_tok_s", round(r.prefill().max(), 3));
        n.put("batch_tok_s", round(r.batch().max(), 3));
        n.put("load_s", round(r.loadSeconds().min(), 6));
        putMib(n, "peak_rss_mib", r.peakRssAfterRun());
        n.put("bandwidth_gb_s", round(r.bandwidth(), 3));
        n.put("bound_tok_s", round(bound, 3));
        n.put("decode_bound_ratio", round(r.decode().max() / bound, 4));
        n.put("decode_tok_s_median", round(r.decode().median(), 3));
        n.put("prefill_tok_s_median", round(r.prefill().median(), 3));
        n.put("batch_tok_s_median", round(r.batch().median(), 3));
        n.put("load_s_median", round(r.loadSeconds().median(), 6));
        n.put("decode_bound_ratio_median", round(r.decode().median() / bound, 4));
        n.put("decode_tok_s_min", round(r.decode().min(), 3));
        n.put("prefill_tok_s_min", round(r.prefill().min(), 3));
        n.put("batch_tok_s_min", round(r.batch().min(), 3));
        n.put("load_s_max", round(r.loadSeconds().max(), 6));
        putMib(n, "peak_rss_after_load_mib", r.peakRssAfterLoad());
        putMib(n, "peak_rss_one_session_mib", r.peakRssOneSession());
        if (r.hugePageShare().isPresent()) {
            n.put("huge_page_share", round(r.hugePageShare().getAsDouble(), 4));
        }
        n.put("bytes_per_token", r.bytesPerToken());
        n.put("model", r.model().toString());
        n.put("architecture", "v" + r.architecture().version());
        n.put("data_type", r.dataType().name());
        n.put("n_embed", r.embeddingSize());
        n.put("n_layer", r.layerCount());
        n.put("n_vocab", r.vocabSize());
        n.put("threads", o.threads());
        n.put("gpu_layers", o.gpuLayers());
        n.put("tokens", o.tokens());
        n.put("prompt_tokens", o.promptTokens());
        n.put("batch", o.batch());
        n.put("repeats", o.repeats());
        n.put("system_info", r.systemInfo());
        n.put("jrwkv_version", Rwkv.version());
        return n.toString();
    }

    private void bandwidth(Bench.Options options, PrintWriter w, Progress progress) {
        int max = options.threads();
        long buffer = options.bandwidthBuffer();
        Bench.Stats[] stats = new Bench.Stats[max];
        for (int t = 1; t <= max; t++) {
            double[] values = new double[options.repeats()];
            for (int r = 0; r < values.length; r++) {
                progress.accept(t + " thread" + (t == 1 ? "" : "s") + ", measurement " + (r + 1) + "/" + values.length);
                values[r] = Bench.readBandwidth(t, buffer, Bench.BANDWIDTH_PASSES);
            }
            stats[t - 1] = Bench.Stats.of(values);
        }
        progress.clear();
        w.printf(Locale.ROOT, "memory read bandwidth, GB/s: %d MiB buffer, best of %d passes per measurement, "
                + "%d measurement%s%n", buffer >> 20, Bench.BANDWIDTH_PASSES, options.repeats(),
                options.repeats() == 1 ? "" : "s");
        w.printf(Locale.ROOT, "%-8s %10s %10s %10s%n", "threads", "median", "min", "max");
        double best = 0;
        ArrayNode rows = JSON.createArrayNode();
        for (int t = 1; t <= max; t++) {
            Bench.Stats s = stats[t - 1];
            w.printf(Locale.ROOT, "%-8d %10.1f %10.1f %10.1f%n", t, s.median(), s.min(), s.max());
            best = Math.max(best, s.max());
            ObjectNode row = rows.addObject();
            row.put("threads", t);
            row.put("gb_s", round(s.max(), 3));
            row.put("gb_s_median", round(s.median(), 3));
            row.put("gb_s_min", round(s.min(), 3));
        }
        if (json) {
            ObjectNode n = JSON.createObjectNode();
            n.put("bandwidth_gb_s", round(best, 3));
            n.set("by_threads", rows);
            n.put("buffer_mib", buffer >> 20);
            n.put("passes", Bench.BANDWIDTH_PASSES);
            n.put("repeats", options.repeats());
            n.put("system_info", Rwkv.systemInfo());
            n.put("jrwkv_version", Rwkv.version());
            w.println(n.toString());
        }
    }

    private static void putMib(ObjectNode n, String key, OptionalLong bytes) {
        if (bytes.isPresent()) {
            n.put(key, round(bytes.getAsLong() / 1048576.0, 1));
        } else {
            n.putNull(key);
        }
    }

    private static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }

    /** One progress line on standard error, overwritten in place, only on a terminal. */
    private static final class Progress implements Consumer<String> {
        private final PrintWriter err;
        private final boolean terminal = System.console() != null;
        private int width;

        Progress(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void accept(String phase) {
            if (terminal) {
                String line = "jrwkv bench: " + phase;
                err.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
                err.flush();
                width = line.length();
            }
        }

        void clear() {
            if (terminal && width > 0) {
                err.print("\r" + " ".repeat(width) + "\r");
                err.flush();
                width = 0;
            }
        }
    }
}
