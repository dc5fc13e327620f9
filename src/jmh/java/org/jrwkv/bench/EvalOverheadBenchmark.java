package org.jrwkv.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.jrwkv.Architecture;
import org.jrwkv.DataType;
import org.jrwkv.Logits;
import org.jrwkv.ModelOptions;
import org.jrwkv.RandomModel;
import org.jrwkv.RwkvModel;
import org.jrwkv.RwkvState;
import org.jrwkv.TestData;
import org.jrwkv.internal.FloatMemory;
import org.jrwkv.internal.NativeLib;
import org.jrwkv.internal.RwkvNative;
import org.jrwkv.internal.RwkvNative.rwkv_context;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the Java layer adds to one evaluation: the same token through the public API
 * ({@link RwkvModel#eval(int, RwkvState, Logits)}: argument checks, locks, reachability fences,
 * one JNI call) and straight through the generated binding ({@code rwkv_eval} on a context of the
 * same file, one JNI call, nothing else); also a JNI call that does nothing
 * ({@code rwkv_get_n_vocab}), and a batch of 8 sessions both ways.
 *
 * <p>{@code model}: {@code micro} (a random RWKV-4 model of 32 x 1 with 32 tokens, written at
 * setup: the engine's work is a few microseconds, so the Java layer's share shows), {@code tiny}
 * (the 834K-parameter RWKV-7 test model), or a path, e.g. {@code -p model=/tmp/v7-0.4b-q5_1.bin}
 * made by {@code jrwkv random-model}, to compare with a real model's token time. One engine
 * thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class EvalOverheadBenchmark {

    private static final int BATCH = 8;

    @Param({"micro", "tiny"})
    public String model;

    private Path microFile;

    private RwkvModel api;
    private RwkvState state;
    private Logits logits;
    private RwkvState[] states;
    private Logits[] outs;
    private int[] batchTokens;

    private rwkv_context ctx;
    private FloatMemory rawState;
    private FloatMemory rawLogits;
    private FloatMemory[] rawStates;
    private FloatMemory[] rawOuts;
    private Pointer stateArray;
    private Pointer logitArray;
    private PointerPointer<Pointer> statePointers;
    private PointerPointer<Pointer> logitPointers;
    private Pointer tokenMemory;
    private IntPointer rawTokens;
    private int token;
    private int vocab;

    /** Loads the model twice: once through the API, once as a bare context. */
    @Setup
    public void setUp() throws IOException {
        Path file;
        if (model.equals("micro")) {
            microFile = Files.createTempFile("jrwkv-micro", ".bin");
            new RandomModel(Architecture.V4, 32, 1, 32, DataType.FP32, 1).write(microFile);
            file = microFile;
        } else {
            file = model.equals("tiny") ? TestData.tiny("7v0-834K", "FP32") : Path.of(model);
        }
        api = RwkvModel.load(file, new ModelOptions(1, 0));
        vocab = api.vocabSize();
        state = api.newState();
        logits = api.newLogits();
        states = new RwkvState[BATCH];
        outs = new Logits[BATCH];
        batchTokens = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            states[i] = api.newState();
            outs[i] = api.newLogits();
            batchTokens[i] = (10 + i) % vocab;
        }

        NativeLib.ensureLoaded();
        RwkvNative.rwkv_set_print_errors(null, false);
        try (NativeLib.Utf8 path = new NativeLib.Utf8(file.toString())) {
            ctx = RwkvNative.rwkv_init_from_file(path.pointer(), 1, 0);
        }
        if (ctx == null || ctx.isNull()) {
            throw new IllegalStateException("cannot load " + file);
        }
        rawState = new FloatMemory(api.stateLength());
        rawLogits = new FloatMemory(api.vocabSize());
        RwkvNative.rwkv_init_state(ctx, rawState.pointer());
        rawStates = new FloatMemory[BATCH];
        rawOuts = new FloatMemory[BATCH];
        stateArray = Pointer.malloc((long) BATCH * Long.BYTES);
        logitArray = Pointer.malloc((long) BATCH * Long.BYTES);
        LongPointer stateWords = new LongPointer(stateArray).capacity(BATCH);
        LongPointer logitWords = new LongPointer(logitArray).capacity(BATCH);
        for (int i = 0; i < BATCH; i++) {
            rawStates[i] = new FloatMemory(api.stateLength());
            rawOuts[i] = new FloatMemory(api.vocabSize());
            RwkvNative.rwkv_init_state(ctx, rawStates[i].pointer());
            stateWords.put(i, rawStates[i].pointer().address());
            logitWords.put(i, rawOuts[i].pointer().address());
        }
        statePointers = new PointerPointer<Pointer>(stateArray).capacity(BATCH);
        logitPointers = new PointerPointer<Pointer>(logitArray).capacity(BATCH);
        tokenMemory = Pointer.malloc((long) BATCH * Integer.BYTES);
        rawTokens = new IntPointer(tokenMemory).capacity(BATCH);
        rawTokens.put(batchTokens, 0, BATCH);
    }

    /** Frees everything. */
    @TearDown
    public void tearDown() throws IOException {
        RwkvNative.rwkv_free(ctx);
        rawState.run();
        rawLogits.run();
        for (int i = 0; i < BATCH; i++) {
            rawStates[i].run();
            rawOuts[i].run();
            states[i].close();
            outs[i].close();
        }
        Pointer.free(stateArray);
        Pointer.free(logitArray);
        Pointer.free(tokenMemory);
        state.close();
        logits.close();
        api.close();
        if (microFile != null) {
            Files.delete(microFile);
        }
    }

    private int nextToken() {
        token = (token + 37) % vocab;
        return token;
    }

    /** A native call that does no work: the cost of crossing JNI through JavaCPP. */
    @Benchmark
    public long jniNoop() {
        return RwkvNative.rwkv_get_n_vocab(ctx);
    }

    /** One token with logits through the public API. */
    @Benchmark
    public void evalApi() {
        api.eval(nextToken(), state, logits);
    }

    /** The same work straight through the generated binding. */
    @Benchmark
    public boolean evalBinding() {
        return RwkvNative.rwkv_eval(ctx, nextToken(), rawState.pointer(), rawState.pointer(), rawLogits.pointer());
    }

    /** One token for each of 8 sessions, with logits, through the public API. */
    @Benchmark
    public void evalBatchApi() {
        api.evalBatch(batchTokens, states, outs);
    }

    /** The same batch straight through the generated binding (pointer arrays made once). */
    @Benchmark
    public boolean evalBatchBinding() {
        return RwkvNative.rwkv_eval_batch(ctx, rawTokens, BATCH, statePointers, statePointers, logitPointers);
    }
}
