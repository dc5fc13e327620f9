package org.jrwkv.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jrwkv.Architecture;
import org.jrwkv.DataType;
import org.jrwkv.Logits;
import org.jrwkv.ModelOptions;
import org.jrwkv.RandomModel;
import org.jrwkv.RwkvModel;
import org.jrwkv.RwkvState;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Moving data between the engine's off-heap buffers and Java: the logits of a World-vocabulary
 * model (65536 floats, 256 KiB) into a {@code float[]} (what {@link org.jrwkv.Sampler} does every
 * token), and the state of an RWKV-7 0.4B-shaped model (1024 x 24: 1,622,016 floats, 6.2 MiB)
 * copied, exported and imported.
 *
 * <p>The models are random-weight files written by {@link RandomModel} into a temporary folder at
 * setup (65536 x 64 x 1 layer FP16, and 1024 x 24 with a 256-token vocabulary in Q4_0, about
 * 170 MB) and deleted at teardown.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class BufferCopyBenchmark {

    private Path dir;
    private RwkvModel world;
    private RwkvModel large;
    private Logits logits;
    private float[] target;
    private RwkvState state;
    private RwkvState other;
    private byte[] exported;

    /** Writes the two models, evaluates a token in each so that the buffers hold real values. */
    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("jrwkv-jmh");
        Path worldFile = dir.resolve("world.bin");
        Path largeFile = dir.resolve("large.bin");
        new RandomModel(Architecture.V7, 64, 1, 65536, DataType.FP16, 1).write(worldFile);
        new RandomModel(Architecture.V7, 1024, 24, 256, DataType.Q4_0, 1).write(largeFile);
        world = RwkvModel.load(worldFile, new ModelOptions(1, 0));
        large = RwkvModel.load(largeFile, new ModelOptions(1, 0));
        logits = world.newLogits();
        try (RwkvState s = world.newState()) {
            world.eval(1, s, logits);
        }
        target = new float[logits.length()];
        state = large.newState();
        other = large.newState();
        large.eval(1, state, null);
        exported = state.exportBytes();
    }

    /** Closes everything and deletes the models. */
    @TearDown
    public void tearDown() {
        logits.close();
        state.close();
        other.close();
        world.close();
        large.close();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
            Files.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** 65536 logits into an existing array (the sampler's copy). */
    @Benchmark
    public float[] logitsCopyTo() {
        logits.copyTo(target);
        return target;
    }

    /** 65536 logits into a new array. */
    @Benchmark
    public float[] logitsToArray() {
        return logits.toArray();
    }

    /** The largest of 65536 logits, read in place (greedy decoding without a copy). */
    @Benchmark
    public int logitsArgmax() {
        return logits.argmax();
    }

    /** One 0.4B-shaped state over another (native memcpy, 6.2 MiB). */
    @Benchmark
    public RwkvState stateCopyFrom() {
        other.copyFrom(state);
        return other;
    }

    /** A new state with the same content, closed again (allocation + copy + free). */
    @Benchmark
    public int stateCopy() {
        try (RwkvState copy = state.copy()) {
            return copy.length();
        }
    }

    /** The state as bytes with header and CRC-32 (for saving a conversation). */
    @Benchmark
    public byte[] stateExportBytes() {
        return state.exportBytes();
    }

    /** Exported bytes back into a state (header and CRC-32 checked). */
    @Benchmark
    public RwkvState stateImportBytes() {
        other.importBytes(exported);
        return other;
    }
}
