package org.jrwkv;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.jrwkv.internal.FloatMemory;
import org.jrwkv.internal.NativeLib;
import org.jrwkv.internal.RwkvNative;
import org.jrwkv.internal.RwkvNative.rwkv_context;
import org.jrwkv.internal.RwkvNative.rwkv_tensor_info;

/**
 * An RWKV model loaded from an rwkv.cpp model file, ready to evaluate tokens.
 *
 * <p>The weights are memory-mapped by the engine, not copied. Evaluation is recurrent: each call
 * feeds tokens into an {@link RwkvState}, updating it in place, and optionally writes the logits
 * for the next token into a {@link Logits} buffer.
 *
 * <pre>{@code
 * try (RwkvModel model = RwkvModel.load(Path.of("model.bin"));
 *      RwkvState state = model.newState();
 *      Logits logits = model.newLogits()) {
 *     model.evalSequence(promptTokens, state, logits);
 *     int next = logits.argmax();
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> One model object evaluates one call at a time: calls on the same object
 * from several threads are serialized (safe, but not parallel). For parallel work give each
 * thread its own {@link #copy()}: copies share the weights (no re-read, no second copy in memory)
 * and have their own buffers, and concurrent evaluations on copies give exactly the results of
 * serial ones. States and logits buffers are not thread-safe; use each from one thread at a time.
 *
 * <p><b>Lifetime.</b> Close the model when done. A forgotten model is freed when it becomes
 * unreachable (states created by it keep it reachable). After {@link #close()}, evaluation,
 * {@link #newState()}, {@link #copy()} and resetting its states throw
 * {@link IllegalStateException}; the metadata stays readable. Weights shared with copies are freed
 * when the last of them is closed.
 */
public final class RwkvModel implements AutoCloseable {

    /** Immutable facts about the loaded file, shared by a model and its copies. */
    private record Metadata(Path path, Architecture architecture, DataType dataType, int fileVersion,
            int vocabSize, int embeddingSize, int layerCount, int headCount, int headSize,
            StateShape stateShape, List<TensorInfo> tensors) {
    }

    /**
     * The native side of one model object: the context and reusable buffers. It is the cleaning
     * action, so it must not refer to the {@link RwkvModel}.
     */
    private static final class Context implements Runnable {
        final rwkv_context ctx;
        private IntPointer tokens;
        private long tokenCapacity;
        private FloatMemory scratchLogits;
        /** The state and logits pointer arrays of rwkv_eval_batch (grown when needed). */
        private PointerArray statePointers;
        private PointerArray logitPointers;

        Context(rwkv_context ctx) {
            this.ctx = ctx;
        }

        /** The tokens in a reusable native buffer (grown when needed, never per call). */
        IntPointer tokens(int[] values) {
            if (tokenCapacity < values.length) {
                freeTokens();
                long capacity = Math.max(values.length, 64);
                Pointer raw = Pointer.malloc(capacity * Integer.BYTES);
                if (raw == null || raw.isNull()) {
                    throw new OutOfMemoryError("cannot allocate a buffer for " + capacity + " tokens");
                }
                tokens = new IntPointer(raw).capacity(capacity);
                tokenCapacity = capacity;
            }
            tokens.position(0).put(values, 0, values.length);
            return tokens;
        }

        /** Logits for the calls that return a {@code float[]}. */
        FloatMemory scratchLogits(int length) {
            if (scratchLogits == null) {
                scratchLogits = new FloatMemory(length);
            }
            return scratchLogits;
        }

        /** The pointer arrays for a batch of {@code n} sessions. */
        PointerArray statePointers(int n) {
            if (statePointers == null || statePointers.capacity < n) {
                PointerArray grown = new PointerArray(Math.max(n, 16));
                if (statePointers != null) {
                    statePointers.free();
                }
                statePointers = grown;
            }
            return statePointers;
        }

        PointerArray logitPointers(int n) {
            if (logitPointers == null || logitPointers.capacity < n) {
                PointerArray grown = new PointerArray(Math.max(n, 16));
                if (logitPointers != null) {
                    logitPointers.free();
                }
                logitPointers = grown;
            }
            return logitPointers;
        }

        private void freeTokens() {
            if (tokens != null) {
                Pointer.free(tokens);
                tokens = null;
                tokenCapacity = 0;
            }
        }

        @Override
        public void run() {
            RwkvNative.rwkv_free(ctx);
            freeTokens();
            if (scratchLogits != null) {
                scratchLogits.run();
            }
            if (statePointers != null) {
                statePointers.free();
            }
            if (logitPointers != null) {
                logitPointers.free();
            }
        }
    }

    /**
     * A native array of pointers ({@code float *} entries) for rwkv_eval_batch, filled from Java
     * with one bulk copy of the addresses instead of one native call per entry. Every platform
     * jrwkv builds for has 8-byte pointers.
     */
    private static final class PointerArray {
        final int capacity;
        private final Pointer raw;
        private final PointerPointer<Pointer> pointers;
        private final LongPointer words;
        private final long[] addresses;

        PointerArray(int capacity) {
            if (Loader.sizeof(PointerPointer.class) != Long.BYTES) {
                throw new UnsupportedOperationException("batch evaluation needs 8-byte pointers");
            }
            this.capacity = capacity;
            this.raw = Pointer.malloc((long) capacity * Long.BYTES);
            if (raw == null || raw.isNull()) {
                throw new OutOfMemoryError("cannot allocate " + capacity + " pointers");
            }
            this.pointers = new PointerPointer<Pointer>(raw).capacity(capacity);
            this.words = new LongPointer(raw).capacity(capacity);
            this.addresses = new long[capacity];
        }

        /** Sets entry {@code i} to {@code memory}'s address, or NULL; {@link #commit} writes it. */
        void set(int i, FloatMemory memory) {
            addresses[i] = memory == null ? 0 : memory.pointer().address();
        }

        /** Writes entries {@code 0 .. n)} into the native array and returns it. */
        PointerPointer<Pointer> commit(int n) {
            words.position(0).put(addresses, 0, n);
            return pointers;
        }

        void free() {
            Pointer.free(raw);
        }
    }

    private static final int SINGLE = 0;
    private static final int SEQUENCE = 1;
    private static final int CHUNKED = 2;

    private final Metadata meta;
    private final int threads;
    private final Context context;
    private final Cleaner.Cleanable cleanable;
    private final Object lock = new Object();
    private boolean closed;

    private RwkvModel(Metadata meta, Context context) {
        this.meta = meta;
        this.context = context;
        this.threads = RwkvNative.rwkv_get_n_threads(context.ctx);
        this.cleanable = NativeLib.cleaner().register(this, context);
    }

    /**
     * Loads a model file with {@linkplain ModelOptions#defaults() default options}.
     *
     * @param path an rwkv.cpp model file (versions 100 and 101; FP32, FP16, Q4_0, Q4_1, Q5_0,
     *             Q5_1, Q8_0)
     * @return the loaded model
     * @throws RwkvException if the file cannot be read or is not a valid model
     */
    public static RwkvModel load(Path path) {
        return load(path, ModelOptions.defaults());
    }

    /**
     * Loads a model file. The whole file is validated first: a damaged or hostile file gives an
     * {@link RwkvException}, never a crash.
     *
     * @param path    an rwkv.cpp model file
     * @param options thread count and GPU layers
     * @return the loaded model
     * @throws RwkvException if the file cannot be read or is not a valid model
     */
    public static RwkvModel load(Path path, ModelOptions options) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        NativeLib.applyThreadPrintFlag();
        rwkv_context ctx;
        try (NativeLib.Utf8 file = new NativeLib.Utf8(path.toString())) {
            ctx = RwkvNative.rwkv_init_from_file(file.pointer(), options.threads(), options.gpuLayers());
        }
        if (ctx == null || ctx.isNull()) {
            throw NativeErrors.global("Cannot load model " + path);
        }
        try {
            RwkvNative.rwkv_set_print_errors(ctx, NativeLib.printNativeErrors());
            return new RwkvModel(readMetadata(path, ctx), new Context(ctx));
        } catch (RuntimeException | Error e) {
            RwkvNative.rwkv_free(ctx);
            throw e;
        }
    }

    private static Metadata readMetadata(Path path, rwkv_context ctx) {
        Architecture architecture = Architecture.fromCode(RwkvNative.rwkv_get_architecture(ctx));
        int embeddingSize = Math.toIntExact(RwkvNative.rwkv_get_n_embed(ctx));
        int layerCount = Math.toIntExact(RwkvNative.rwkv_get_n_layer(ctx));
        int headSize = Math.toIntExact(RwkvNative.rwkv_get_head_size(ctx));
        StateShape shape = new StateShape(architecture, embeddingSize, layerCount, headSize,
                Math.toIntExact(RwkvNative.rwkv_get_state_len(ctx)));
        return new Metadata(path, architecture,
                DataType.fromCode(RwkvNative.rwkv_get_file_data_type(ctx)),
                RwkvNative.rwkv_get_file_version(ctx),
                Math.toIntExact(RwkvNative.rwkv_get_n_vocab(ctx)),
                embeddingSize, layerCount,
                Math.toIntExact(RwkvNative.rwkv_get_n_head(ctx)), headSize, shape,
                readTensors(ctx));
    }

    private static List<TensorInfo> readTensors(rwkv_context ctx) {
        long count = RwkvNative.rwkv_get_tensor_count(ctx);
        List<TensorInfo> tensors = new ArrayList<>(Math.toIntExact(count));
        Pointer raw = Pointer.malloc(Loader.sizeof(rwkv_tensor_info.class));
        if (raw == null || raw.isNull()) {
            throw new OutOfMemoryError("cannot allocate a tensor info");
        }
        try {
            rwkv_tensor_info info = new rwkv_tensor_info(raw);
            for (long i = 0; i < count; i++) {
                if (!RwkvNative.rwkv_get_tensor_info(ctx, i, info)) {
                    throw new IllegalStateException("engine has no tensor record " + i + " of " + count);
                }
                int nDims = info.n_dims();
                List<Long> dims = new ArrayList<>(nDims);
                for (int d = 0; d < nDims; d++) {
                    dims.add(Integer.toUnsignedLong(info.ne(d)));
                }
                tensors.add(new TensorInfo(NativeLib.string(info.name()), DataType.fromCode(info.type()), dims,
                        info.offset(), info.n_bytes(), info.used()));
            }
        } finally {
            Pointer.free(raw);
        }
        return List.copyOf(tensors);
    }

    // ---- metadata (readable after close) ----

    /** The file this model was loaded from. */
    public Path path() {
        return meta.path();
    }

    /** The architecture, detected from the tensor names. */
    public Architecture architecture() {
        return meta.architecture();
    }

    /**
     * The data type in the file header: the type of "most" tensors (every quantized file also
     * holds FP32 tensors; see {@link #tensors()} for each tensor's own type).
     */
    public DataType dataType() {
        return meta.dataType();
    }

    /** The file format version in the header: 100 or 101. */
    public int fileVersion() {
        return meta.fileVersion();
    }

    /** Vocabulary size: the number of logits per evaluation, and the bound of valid tokens. */
    public int vocabSize() {
        return meta.vocabSize();
    }

    /** Embedding width (n_embed). */
    public int embeddingSize() {
        return meta.embeddingSize();
    }

    /** Number of blocks (n_layer), not counting embedding and head. */
    public int layerCount() {
        return meta.layerCount();
    }

    /** Number of attention heads (v5 and later); 0 for v4. */
    public int headCount() {
        return meta.headCount();
    }

    /** Size of one head (v5 and later); 0 for v4. */
    public int headSize() {
        return meta.headSize();
    }

    /** Number of floats in a state of this model. */
    public int stateLength() {
        return meta.stateShape().length();
    }

    /** Worker threads this model object uses inside one evaluation. */
    public int threads() {
        return threads;
    }

    /** The tensor records of the file, in file order. */
    public List<TensorInfo> tensors() {
        return meta.tensors();
    }

    // ---- states and buffers ----

    /**
     * A new state holding the initial state (what the model has seen before the first token).
     *
     * @throws IllegalStateException if this model is closed
     */
    public RwkvState newState() {
        RwkvState state = new RwkvState(this, meta.stateShape());
        try {
            initState(state);
        } catch (RuntimeException e) {
            state.close();
            throw e;
        }
        return state;
    }

    /** A new logits buffer of {@link #vocabSize()} floats. */
    public Logits newLogits() {
        return new Logits(meta.vocabSize());
    }

    /** Writes the initial state into {@code state} (for {@link RwkvState#reset()}). */
    void initState(RwkvState state) {
        try {
            synchronized (lock) {
                Context c = open();
                synchronized (state.lock()) {
                    RwkvNative.rwkv_init_state(c.ctx, state.memoryForNativeCall().pointer());
                }
            }
        } finally {
            Reference.reachabilityFence(this);
            Reference.reachabilityFence(state);
        }
    }

    // ---- evaluation ----

    /**
     * Evaluates one token: updates {@code state} in place and returns the logits for the next
     * token in a new array. Allocates that array on every call; use
     * {@link #eval(int, RwkvState, Logits)} in loops.
     *
     * @param token a token in {@code [0, vocabSize())}
     * @param state a state of this model (or of a model of the same shape), updated in place
     * @return the {@link #vocabSize()} logits
     * @throws IllegalArgumentException if the token is out of range or the state belongs to a
     *                                  model of another shape
     * @throws IllegalStateException    if this model or the state is closed
     * @throws RwkvException            if the engine fails
     */
    public float[] eval(int token, RwkvState state) {
        return evaluate(SINGLE, token, null, 0, state, null, true);
    }

    /**
     * Evaluates one token: updates {@code state} in place and writes the logits for the next token
     * into {@code out}.
     *
     * @param token a token in {@code [0, vocabSize())}
     * @param state a state of this model (or of a model of the same shape), updated in place
     * @param out   receives the logits; {@code null} skips computing them (the state is exactly
     *              the same, and the call is faster: use it for all prompt tokens but the last)
     * @throws IllegalArgumentException if the token is out of range, the state belongs to a model
     *                                  of another shape or {@code out} has the wrong length
     * @throws IllegalStateException    if this model, the state or the buffer is closed
     * @throws RwkvException            if the engine fails
     */
    public void eval(int token, RwkvState state, Logits out) {
        evaluate(SINGLE, token, null, 0, state, out, false);
    }

    /**
     * Evaluates a sequence of tokens in one call ("sequence mode", faster than one call per token
     * for prompts) and returns the logits after the last one in a new array. The state ends up
     * exactly as after {@link #eval(int, RwkvState, Logits)} on each token in turn.
     *
     * @param tokens at least one token, each in {@code [0, vocabSize())}
     * @param state  updated in place
     * @return the logits after the last token
     * @throws IllegalArgumentException if {@code tokens} is empty or has a token out of range, or
     *                                  the state belongs to a model of another shape
     * @throws IllegalStateException    if this model or the state is closed
     * @throws RwkvException            if the engine fails
     */
    public float[] evalSequence(int[] tokens, RwkvState state) {
        return evaluate(SEQUENCE, 0, tokens, 0, state, null, true);
    }

    /**
     * Evaluates a sequence of tokens in one call ("sequence mode"). The state ends up exactly as
     * after {@link #eval(int, RwkvState, Logits)} on each token in turn.
     *
     * @param tokens at least one token, each in {@code [0, vocabSize())}
     * @param state  updated in place
     * @param out    receives the logits after the last token; {@code null} skips them
     * @throws IllegalArgumentException if {@code tokens} is empty or has a token out of range, the
     *                                  state belongs to a model of another shape or {@code out}
     *                                  has the wrong length
     * @throws IllegalStateException    if this model, the state or the buffer is closed
     * @throws RwkvException            if the engine fails
     */
    public void evalSequence(int[] tokens, RwkvState state, Logits out) {
        evaluate(SEQUENCE, 0, tokens, 0, state, out, false);
    }

    /**
     * Evaluates a sequence in chunks of {@code chunkSize} tokens (the last chunk may be shorter),
     * which bounds the engine's working memory for long prompts. The result does not depend on
     * the chunk size; 16 is a good default.
     *
     * @param tokens    at least one token, each in {@code [0, vocabSize())}
     * @param chunkSize tokens per chunk, at least 1
     * @param state     updated in place; left unchanged if a chunk fails
     * @param out       receives the logits after the last token; {@code null} skips them
     * @throws IllegalArgumentException if an argument is invalid (see
     *                                  {@link #evalSequence(int[], RwkvState, Logits)})
     * @throws IllegalStateException    if this model, the state or the buffer is closed
     * @throws RwkvException            if the engine fails
     */
    public void evalSequence(int[] tokens, int chunkSize, RwkvState state, Logits out) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunk size must be at least 1, got " + chunkSize);
        }
        evaluate(CHUNKED, 0, tokens, chunkSize, state, out, false);
    }

    /**
     * Evaluates one token for each of several independent sessions in one pass over the weights
     * ("batch mode"): session {@code i} feeds {@code tokens[i]} into {@code states[i]} (updated in
     * place) and writes its logits into {@code outs[i]}. Each session ends up exactly as after
     * {@link #eval(int, RwkvState, Logits)} on its own, but the weights are read once for all of
     * them, so a server advancing many conversations gets far more tokens per second than with
     * one call per session.
     *
     * <p>Everything is checked before anything is evaluated; a refused call changes nothing.
     * Nothing large is allocated per call (the native pointer arrays are reused).
     *
     * @param tokens one token per session, each in {@code [0, vocabSize())}
     * @param states one state per session, all distinct, of this model's shape
     * @param outs   {@code null} (no logits), or one buffer per session, all distinct, where a
     *               {@code null} entry skips that session's logits
     * @throws IllegalArgumentException if the arrays are empty or of different lengths, an entry
     *                                  of {@code states} is null, a state or buffer appears twice,
     *                                  a token is out of range, a state belongs to a model of
     *                                  another shape or a buffer has the wrong length
     * @throws IllegalStateException    if this model, a state or a buffer is closed
     * @throws RwkvException            if the engine fails
     */
    public void evalBatch(int[] tokens, RwkvState[] states, Logits[] outs) {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(states, "states");
        int n = tokens.length;
        if (n == 0) {
            throw new IllegalArgumentException("a batch needs at least one session");
        }
        if (states.length != n || (outs != null && outs.length != n)) {
            throw new IllegalArgumentException("a batch needs one state" + (outs == null ? "" : " and one logits buffer")
                    + " per token: got " + n + " tokens, " + states.length + " states"
                    + (outs == null ? "" : ", " + outs.length + " logits buffers"));
        }
        int outCount = 0;
        for (int i = 0; i < n; i++) {
            int token = tokens[i];
            if (token < 0 || token >= meta.vocabSize()) {
                throw new IllegalArgumentException("token " + token + " of session " + i + " is out of range [0, "
                        + meta.vocabSize() + ")");
            }
            if (states[i] == null) {
                throw new IllegalArgumentException("states[" + i + "] is null");
            }
            states[i].requireSameShape(meta.stateShape());
            Logits out = outs == null ? null : outs[i];
            if (out != null) {
                if (out.length() != meta.vocabSize()) {
                    throw new IllegalArgumentException("logits buffer " + i + " has " + out.length()
                            + " floats; this model has " + meta.vocabSize() + " logits");
                }
                outCount++;
            }
        }
        // The locks of all states, then of all buffers, each in the order of creation: two batch
        // calls (on copies of a model) sharing objects cannot deadlock, nor can copyFrom.
        RwkvState[] lockedStates = states.clone();
        Arrays.sort(lockedStates, STATE_ORDER);
        for (int i = 1; i < n; i++) {
            if (lockedStates[i] == lockedStates[i - 1]) {
                int first = indexOf(states, lockedStates[i], 0);
                throw new IllegalArgumentException("states[" + first + "] and states["
                        + indexOf(states, lockedStates[i], first + 1) + "] are the same state; every session needs "
                        + "its own");
            }
        }
        Logits[] lockedOuts = new Logits[outCount];
        for (int i = 0, j = 0; outs != null && i < n; i++) {
            if (outs[i] != null) {
                lockedOuts[j++] = outs[i];
            }
        }
        Arrays.sort(lockedOuts, LOGITS_ORDER);
        for (int i = 1; i < outCount; i++) {
            if (lockedOuts[i] == lockedOuts[i - 1]) {
                throw new IllegalArgumentException("a logits buffer appears twice in the batch; every session needs "
                        + "its own");
            }
        }
        try {
            synchronized (lock) {
                Context c = open();
                lockStates(c, tokens, states, outs, lockedStates, 0, lockedOuts);
            }
        } finally {
            Reference.reachabilityFence(this);
            Reference.reachabilityFence(lockedStates);
            Reference.reachabilityFence(lockedOuts);
        }
    }

    private static final Comparator<RwkvState> STATE_ORDER = Comparator.comparingLong(RwkvState::id);
    private static final Comparator<Logits> LOGITS_ORDER = Comparator.comparingLong(Logits::id);

    private static int indexOf(Object[] array, Object value, int from) {
        for (int i = from; i < array.length; i++) {
            if (array[i] == value) {
                return i;
            }
        }
        return -1;
    }

    /** Takes the lock of {@code locked[next]} and those after it, then of the buffers. */
    private void lockStates(Context c, int[] tokens, RwkvState[] states, Logits[] outs, RwkvState[] locked, int next,
            Logits[] lockedOuts) {
        if (next == locked.length) {
            lockOuts(c, tokens, states, outs, lockedOuts, 0);
            return;
        }
        synchronized (locked[next].lock()) {
            lockStates(c, tokens, states, outs, locked, next + 1, lockedOuts);
        }
    }

    private void lockOuts(Context c, int[] tokens, RwkvState[] states, Logits[] outs, Logits[] locked, int next) {
        if (next == locked.length) {
            callBatch(c, tokens, states, outs);
            return;
        }
        synchronized (locked[next].lock()) {
            lockOuts(c, tokens, states, outs, locked, next + 1);
        }
    }

    /** The native call, with every state and buffer locked (and checked open). */
    private static void callBatch(Context c, int[] tokens, RwkvState[] states, Logits[] outs) {
        int n = tokens.length;
        PointerArray statePointers = c.statePointers(n);
        PointerArray logitPointers = outs == null ? null : c.logitPointers(n);
        for (int i = 0; i < n; i++) {
            statePointers.set(i, states[i].memoryForNativeCall());
            if (logitPointers != null) {
                logitPointers.set(i, outs[i] == null ? null : outs[i].memoryForNativeCall());
            }
        }
        PointerPointer<Pointer> stateArray = statePointers.commit(n);
        boolean ok = RwkvNative.rwkv_eval_batch(c.ctx, c.tokens(tokens), n, stateArray, stateArray,
                logitPointers == null ? null : logitPointers.commit(n));
        if (!ok) {
            throw NativeErrors.context(c.ctx, "Batch evaluation failed");
        }
    }

    private float[] evaluate(int mode, int token, int[] tokens, int chunkSize, RwkvState state, Logits out,
            boolean returnArray) {
        // Everything the Java side can check, before any native call.
        Objects.requireNonNull(state, "state");
        if (mode == SINGLE) {
            checkToken(token);
        } else {
            Objects.requireNonNull(tokens, "tokens");
            if (tokens.length == 0) {
                throw new IllegalArgumentException("tokens must not be empty");
            }
            for (int t : tokens) {
                checkToken(t);
            }
        }
        state.requireSameShape(meta.stateShape());
        if (out != null && out.length() != meta.vocabSize()) {
            throw new IllegalArgumentException("logits buffer has " + out.length() + " floats; this model has "
                    + meta.vocabSize() + " logits");
        }
        try {
            synchronized (lock) {
                Context c = open();
                synchronized (state.lock()) {
                    FloatPointer statePointer = state.memoryForNativeCall().pointer();
                    if (returnArray) {
                        FloatMemory scratch = c.scratchLogits(meta.vocabSize());
                        call(c, mode, token, tokens, chunkSize, statePointer, scratch.pointer());
                        float[] result = new float[meta.vocabSize()];
                        scratch.buffer().duplicate().get(result);
                        return result;
                    }
                    if (out == null) {
                        call(c, mode, token, tokens, chunkSize, statePointer, null);
                        return null;
                    }
                    synchronized (out.lock()) {
                        call(c, mode, token, tokens, chunkSize, statePointer, out.memoryForNativeCall().pointer());
                        return null;
                    }
                }
            }
        } finally {
            // The cleaners of these objects free the memory the native call uses: keep them
            // reachable until it has returned.
            Reference.reachabilityFence(this);
            Reference.reachabilityFence(state);
            Reference.reachabilityFence(out);
        }
    }

    private static void call(Context c, int mode, int token, int[] tokens, int chunkSize, FloatPointer state,
            FloatPointer logits) {
        boolean ok;
        switch (mode) {
            case SINGLE:
                ok = RwkvNative.rwkv_eval(c.ctx, token, state, state, logits);
                break;
            case SEQUENCE:
                ok = RwkvNative.rwkv_eval_sequence(c.ctx, c.tokens(tokens), tokens.length, state, state, logits);
                break;
            default:
                ok = RwkvNative.rwkv_eval_sequence_in_chunks(c.ctx, c.tokens(tokens), tokens.length, chunkSize,
                        state, state, logits);
                break;
        }
        if (!ok) {
            throw NativeErrors.context(c.ctx, "Evaluation failed");
        }
    }

    private void checkToken(int token) {
        if (token < 0 || token >= meta.vocabSize()) {
            throw new IllegalArgumentException("token " + token + " is out of range [0, " + meta.vocabSize() + ")");
        }
    }

    // ---- copies and lifetime ----

    /**
     * A copy for another thread, with the same thread count. See {@link #copy(int)}.
     *
     * @throws IllegalStateException if this model is closed
     * @throws RwkvException         if the engine cannot create the copy
     */
    public RwkvModel copy() {
        return copy(threads);
    }

    /**
     * A copy for another thread: shares the weights (nothing is re-read or duplicated) and has its
     * own buffers and worker threads. States of this model can be used with the copy. The copy is
     * independent: closing either one does not affect the other.
     *
     * @param threads worker threads for the copy, at least 1
     * @return the copy
     * @throws IllegalStateException if this model is closed
     * @throws RwkvException         if the engine cannot create the copy
     */
    public RwkvModel copy(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        try {
            synchronized (lock) {
                Context c = open();
                NativeLib.applyThreadPrintFlag();
                rwkv_context clone = RwkvNative.rwkv_clone_context(c.ctx, threads);
                if (clone == null || clone.isNull()) {
                    throw NativeErrors.global("Cannot copy model " + meta.path());
                }
                RwkvNative.rwkv_set_print_errors(clone, NativeLib.printNativeErrors());
                return new RwkvModel(meta, new Context(clone));
            }
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /**
     * Frees the context (and the weights, if no copy uses them). Waits for a running evaluation
     * on this object to finish. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (!closed) {
                closed = true;
                cleanable.clean();
            }
        }
    }

    /** The context, for a call made while holding {@link #lock}. */
    private Context open() {
        if (closed) {
            throw new IllegalStateException("model is closed: " + meta.path());
        }
        return context;
    }

    @Override
    public String toString() {
        return "RwkvModel[" + meta.path() + ", RWKV v" + meta.architecture().version() + " " + meta.dataType()
                + ", n_vocab " + meta.vocabSize() + ", n_embed " + meta.embeddingSize() + ", n_layer "
                + meta.layerCount() + (isClosed() ? ", closed]" : "]");
    }
}
