package org.jrwkv.bench;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.jrwkv.NeoxTokenizer;
import org.jrwkv.TokenizerData;
import org.jrwkv.WorldTokenizer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Tokenizer speed on a multilingual text of about 1 MB (the reference cases, repeated). Each
 * operation encodes (or decodes) the whole text; the {@code bytes} counter is the UTF-8 bytes
 * processed per second, so MB/s = bytes / 10^6.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class TokenizerBenchmark {

    private WorldTokenizer world;
    private NeoxTokenizer neox;
    private String text;
    private int[] worldIds;
    private long utf8Bytes;

    /** Counts the bytes processed, reported by JMH per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        /** UTF-8 bytes processed. */
        public long bytes;

        /** Reset per iteration. */
        @Setup(Level.Iteration)
        public void clear() {
            bytes = 0;
        }
    }

    /** Loads the tokenizers and builds the text. */
    @Setup
    public void setUp() {
        world = TokenizerData.world();
        neox = TokenizerData.neox();
        text = BenchData.multilingualText(1 << 20);
        utf8Bytes = text.getBytes(StandardCharsets.UTF_8).length;
        worldIds = world.encode(text);
    }

    /** World encode: greedy longest match through the byte trie. */
    @Benchmark
    public int[] worldEncode(Bytes counter) {
        counter.bytes += utf8Bytes;
        return world.encode(text);
    }

    /** World decode of the same text's tokens. */
    @Benchmark
    public String worldDecode(Bytes counter) {
        counter.bytes += utf8Bytes;
        return world.decode(worldIds);
    }

    /** GPT-NeoX encode: added tokens, NFC, pre-tokenizer, BPE (with its per-piece cache). */
    @Benchmark
    public int[] neoxEncode(Bytes counter) {
        counter.bytes += utf8Bytes;
        return neox.encode(text);
    }
}
