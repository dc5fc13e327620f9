package org.jrwkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jrwkv.Architecture;
import org.jrwkv.Bench;
import org.jrwkv.DataType;
import org.jrwkv.RandomModel;
import org.jrwkv.RwkvModel;
import org.jrwkv.TensorInfo;
import org.jrwkv.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code random-model} and {@code bench} through the CLI: output, JSON and one-line errors. */
class BenchCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void randomModelWritesWhatTheLibraryWrites() throws IOException {
        Path out = dir.resolve("r.bin");
        CliTest.Run r = CliTest.run("random-model", "--arch", "v5.2", "--embed", "64", "--layers", "2", "--vocab", "256",
                "--dtype", "q8_0", "--seed", "5", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("wrote " + out + ": RWKV v5.2 Q8_0, n_embed 64, n_layer 2, n_vocab 256, seed 5; "),
                r.out());
        Path api = dir.resolve("api.bin");
        new RandomModel(Architecture.V5_2, 64, 2, 256, DataType.Q8_0, 5).write(api);
        assertEquals(-1L, Files.mismatch(out, api));
        CliTest.Run info = CliTest.run("info", out.toString());
        assertTrue(info.out().contains("architecture  RWKV v5.2"), info.out());
        // Defaults: vocabulary 65536, FP16, seed 0; "7" works as well as "v7".
        Path defaults = dir.resolve("d.bin");
        r = CliTest.run("random-model", "--arch", "7", "--embed", "32", "--layers", "1", defaults.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("RWKV v7 FP16, n_embed 32, n_layer 1, n_vocab 65536, seed 0"), r.out());
    }

    @Test
    void randomModelErrorsAreOneLine() {
        String out = dir.resolve("never.bin").toString();
        CliTest.run("random-model", "--arch", "v8", "--embed", "64", "--layers", "1", out)
                .assertOneErrorLine(Main.EXIT_FAILURE, "unknown architecture 'v8'; choose one of v4, v5.1, v5.2, v6, v7");
        CliTest.run("random-model", "--arch", "v7", "--embed", "100", "--layers", "1", out)
                .assertOneErrorLine(Main.EXIT_FAILURE, "embedding size must be a positive multiple of 32");
        CliTest.run("random-model", "--arch", "v7", "--embed", "64", "--layers", "0", out)
                .assertOneErrorLine(Main.EXIT_FAILURE, "layer count must be 1 to 1024; got 0");
        CliTest.run("random-model", "--arch", "v7", "--embed", "64", "--layers", "1", "--dtype", "q3", out)
                .assertOneErrorLine(Main.EXIT_FAILURE,
                        "unknown data type 'q3'; choose one of fp32, fp16, q4_0, q4_1, q5_0, q5_1, q8_0");
        CliTest.run("random-model", "--arch", "v7", "--layers", "1", out)
                .assertOneErrorLine(Main.EXIT_USAGE, "Missing required option: '--embed=N'");
        String nested = dir.resolve("no/such/dir/m.bin").toString();
        CliTest.run("random-model", "--arch", "v7", "--embed", "64", "--layers", "1", nested)
                .assertOneErrorLine(Main.EXIT_FAILURE, "Cannot write random model " + nested);
        assertTrue(Files.notExists(Path.of(out)));
    }

    @Test
    void benchPrintsTheTableAndEndsWithJson() throws IOException {
        Path model = TestData.tiny("7v0-834K", "Q5_1");
        CliTest.Run r = CliTest.run("bench", "--model", model.toString(), "--threads", "1", "--tokens", "8",
                "--prompt-tokens", "20", "--batch", "3", "--repeats", "2", "--buffer-mib", "16", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err(), "no progress line without a terminal");
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(1).contains("RWKV v7 Q5_1, n_embed 64, n_layer 12, n_vocab 256"), r.out());
        assertTrue(r.out().contains("\ndecode tok/s "), r.out());
        assertTrue(r.out().contains("8 tokens after 16 warm-up"), r.out());
        assertTrue(r.out().contains("20 tokens, chunks of 64"), r.out());
        assertTrue(r.out().contains("\nbatch 3 tok/s "), r.out());
        assertTrue(r.out().contains("2 steps of 3 sessions"), r.out());
        assertTrue(r.out().contains("\npeak RSS   "), r.out());
        assertTrue(r.out().contains("\nbound      "), r.out());

        JsonNode json = JSON.readTree(lines.get(lines.size() - 1));
        for (String key : new String[] {"decode_tok_s", "prefill_tok_s", "batch_tok_s", "load_s", "bandwidth_gb_s",
                "bound_tok_s", "decode_bound_ratio", "decode_tok_s_median", "prefill_tok_s_median",
                "batch_tok_s_median"}) {
            assertTrue(json.get(key).isNumber() && json.get(key).asDouble() > 0, key + " in " + json);
        }
        assertTrue(json.get("decode_tok_s").asDouble() >= json.get("decode_tok_s_median").asDouble());
        assertTrue(json.get("decode_tok_s_median").asDouble() >= json.get("decode_tok_s_min").asDouble());
        assertTrue(json.get("load_s").asDouble() <= json.get("load_s_median").asDouble());
        boolean linux = Files.isReadable(Path.of("/proc/self/status"));
        assertEquals(linux, json.get("peak_rss_mib").isNumber(), json.toString());
        if (linux) {
            assertTrue(json.get("peak_rss_mib").asDouble() >= json.get("peak_rss_one_session_mib").asDouble());
            assertTrue(json.get("peak_rss_one_session_mib").asDouble()
                    >= json.get("peak_rss_after_load_mib").asDouble());
            // The model file's mapping is resident after decoding; how much in 2 MiB pages depends
            // on the file system, but a share it is.
            double share = json.get("huge_page_share").asDouble(-1);
            assertTrue(share >= 0 && share <= 1, json.toString());
            assertTrue(r.out().contains("\nmapping    "), r.out());
        }
        // The bound is the bandwidth over the bytes one token reads: every used tensor but the
        // embedding, of which one row.
        long bytes;
        try (RwkvModel m = RwkvModel.load(model)) {
            bytes = 0;
            for (TensorInfo t : m.tensors()) {
                bytes += t.name().equals("emb.weight") ? t.bytes() / 256 : t.used() ? t.bytes() : 0;
            }
            assertEquals(bytes, Bench.bytesReadPerToken(m));
        }
        assertEquals(bytes, json.get("bytes_per_token").asLong());
        assertEquals(json.get("bandwidth_gb_s").asDouble() * 1e9 / bytes, json.get("bound_tok_s").asDouble(),
                json.get("bound_tok_s").asDouble() * 1e-3);
        assertEquals("v7", json.get("architecture").asText());
        assertEquals("Q5_1", json.get("data_type").asText());
        assertEquals(1, json.get("threads").asInt());
        assertEquals(2, json.get("repeats").asInt());
    }

    @Test
    void gpuLayersReachTheModelAndTheReport() throws IOException {
        // The CPU library has no GPU backend: the layers run on the CPU, and the report says so.
        Path model = TestData.tiny("4v0-660K", "Q5_1");
        CliTest.Run r = CliTest.run("bench", "--model", model.toString(), "--threads", "1", "--tokens", "4",
                "--prompt-tokens", "8", "--batch", "2", "--repeats", "1", "--buffer-mib", "16", "--gpu-layers", "5",
                "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("1 thread, 5 GPU layers requested; "), r.out());
        List<String> lines = r.out().lines().toList();
        JsonNode json = JSON.readTree(lines.get(lines.size() - 1));
        assertEquals(5, json.get("gpu_layers").asInt());
        assertTrue(json.get("system_info").asText().endsWith(" GPU=none"), json.toString());
        assertTrue(json.get("decode_tok_s").asDouble() > 0, json.toString());
    }

    @Test
    void bandwidthAloneMeasuresEachThreadCount() throws IOException {
        CliTest.Run r = CliTest.run("bench", "--bandwidth", "--threads", "2", "--repeats", "1", "--buffer-mib", "16",
                "--json");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("memory read bandwidth, GB/s: 16 MiB buffer"), r.out());
        assertTrue(lines.get(2).startsWith("1 "), r.out());
        assertTrue(lines.get(3).startsWith("2 "), r.out());
        JsonNode json = JSON.readTree(lines.get(lines.size() - 1));
        assertEquals(2, json.get("by_threads").size());
        assertEquals(2, json.get("by_threads").get(1).get("threads").asInt());
        double best = Math.max(json.get("by_threads").get(0).get("gb_s").asDouble(),
                json.get("by_threads").get(1).get("gb_s").asDouble());
        assertEquals(best, json.get("bandwidth_gb_s").asDouble());
        assertTrue(best > 0);
    }

    @Test
    void benchErrorsAreOneLine() {
        CliTest.run("bench").assertOneErrorLine(Main.EXIT_FAILURE, "give --model FILE (or --bandwidth");
        String tiny = TestData.tiny("5v2-730K", "FP32").toString();
        CliTest.run("bench", "--bandwidth", "--model", tiny)
                .assertOneErrorLine(Main.EXIT_FAILURE, "--bandwidth measures the machine alone; leave out --model");
        CliTest.run("bench", "--model", tiny, "--batch", "0")
                .assertOneErrorLine(Main.EXIT_FAILURE, "batch must be 1 to 4096, got 0");
        CliTest.run("bench", "--model", tiny, "--threads", "0")
                .assertOneErrorLine(Main.EXIT_FAILURE, "threads must be 1 to 256, got 0");
        CliTest.run("bench", "--model", tiny, "--gpu-layers", "-1")
                .assertOneErrorLine(Main.EXIT_FAILURE, "GPU layers must be 0 to");
        CliTest.run("bench", "--model", tiny, "--tokens", "x")
                .assertOneErrorLine(Main.EXIT_USAGE, "Invalid value for option '--tokens'");
        Path missing = dir.resolve("missing.bin");
        CliTest.run("bench", "--model", missing.toString(), "--buffer-mib", "16")
                .assertOneErrorLine(Main.EXIT_FAILURE, "Cannot load model " + missing);
    }

    @Test
    void statsAreMinMedianMax() {
        assertEquals(new Bench.Stats(1, 2, 5), Bench.Stats.of(5, 1, 2));
        assertEquals(new Bench.Stats(1, 2.5, 4), Bench.Stats.of(4, 1, 3, 2));
        assertEquals(new Bench.Stats(7, 7, 7), Bench.Stats.of(7));
    }
}
