package org.jrwkv;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Generates text with a model: feeds the prompt in sequence mode (in chunks), then samples and
 * feeds one token at a time. Three ways to consume the output:
 *
 * <pre>{@code
 * try (Generator generator = new Generator(model, tokenizer, SamplerSettings.defaults().withSeed(1))) {
 *     Prompt prompt = PromptFormat.questionAnswer().prompt("What is RWKV?");
 *     GenerationResult all = generator.generate(prompt);                    // blocking
 *     generator.generate(prompt, System.out::print);                        // streaming callback
 *     try (Stream<String> pieces = generator.stream(prompt)) {              // pull
 *         pieces.forEach(System.out::print);
 *     }
 * }
 * }</pre>
 *
 * <p>Each generation starts from the model's initial state, or from the state of the longest
 * prefix of the prompt held by the {@link PrefixCache}, if one was given. Generation ends at the
 * tokenizer's end-of-text token, a stop token or stop string (of the settings or the prompt), the
 * token limit, or {@link #cancel()} (from any thread). Token ids that the tokenizer does not know
 * (a World model's unused rows 65530..65535) are never sampled.
 *
 * <p>A generator owns a state and a logits buffer (off-heap) and runs one generation at a time;
 * close it when done. It does not own the model, the tokenizer or the cache. For parallel
 * generations, give each thread its own generator on its own {@link RwkvModel#copy()}.
 */
public final class Generator implements AutoCloseable {

    /** Prompt tokens fed per evaluation call (bounds the engine's working memory). */
    static final int PROMPT_CHUNK = 64;

    private final RwkvModel model;
    private final Tokenizer tokenizer;
    private final SamplerSettings settings;
    private final PrefixCache cache;
    private final RwkvState state;
    private final Logits logits;
    private final Object lock = new Object();
    /** Whether a generation is running (between {@link #start} and the end of its pieces). */
    private boolean busy;
    private volatile AtomicBoolean cancelled = new AtomicBoolean();
    private boolean closed;

    /**
     * A generator without prefix cache.
     *
     * @param settings the default settings (see {@link #generate(Prompt, SamplerSettings, Consumer)}
     *                 for per-call settings)
     * @throws IllegalArgumentException if the tokenizer has more ids than the model has logits
     */
    public Generator(RwkvModel model, Tokenizer tokenizer, SamplerSettings settings) {
        this(model, tokenizer, settings, null);
    }

    /**
     * A generator that starts each generation from the longest prefix of the prompt held by
     * {@code cache}.
     *
     * @param cache a cache made with the same tokenizer and a model of the same shape, or null
     * @throws IllegalArgumentException if the tokenizer has more ids than the model has logits, or
     *                                  the cache belongs to another tokenizer
     */
    public Generator(RwkvModel model, Tokenizer tokenizer, SamplerSettings settings, PrefixCache cache) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.settings = Objects.requireNonNull(settings, "settings");
        checkVocabulary(model, tokenizer);
        if (cache != null && cache.tokenizer() != tokenizer) {
            throw new IllegalArgumentException("the prefix cache was made with another tokenizer");
        }
        this.cache = cache;
        RwkvState s = model.newState();
        try {
            this.logits = model.newLogits();
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
        this.state = s;
    }

    static void checkVocabulary(RwkvModel model, Tokenizer tokenizer) {
        if (tokenizer.vocabSize() > model.vocabSize()) {
            throw new IllegalArgumentException("the " + tokenizer.kind() + " tokenizer has " + tokenizer.vocabSize()
                    + " ids but the model has only " + model.vocabSize() + " logits: wrong tokenizer for "
                    + model.path().getFileName());
        }
    }

    /** Settings that also ban the ids the tokenizer cannot decode. */
    static SamplerSettings withUnknownIdsBanned(SamplerSettings settings, Tokenizer tokenizer, RwkvModel model) {
        if (tokenizer.vocabSize() >= model.vocabSize()) {
            return settings;
        }
        java.util.Set<Integer> banned = new java.util.HashSet<>(settings.bannedTokens());
        for (int id = tokenizer.vocabSize(); id < model.vocabSize(); id++) {
            banned.add(id);
        }
        return settings.withBannedTokens(banned);
    }

    /** The default settings. */
    public SamplerSettings settings() {
        return settings;
    }

    /** Generates with the default settings and returns the result. */
    public GenerationResult generate(Prompt prompt) {
        return generate(prompt, settings, piece -> { });
    }

    /** Generates from a raw text with the default settings (no stop string but the settings'). */
    public GenerationResult generate(String prompt) {
        return generate(Prompt.of(prompt));
    }

    /** Generates with the default settings, passing each piece of text to {@code onText}. */
    public GenerationResult generate(Prompt prompt, Consumer<String> onText) {
        return generate(prompt, settings, onText);
    }

    /**
     * Generates, passing each piece of text to {@code onText} as soon as it is final (never a
     * broken character or part of a stop string), on the calling thread.
     *
     * @throws IllegalStateException if another generation is running on this generator, or it is
     *                               closed
     */
    public GenerationResult generate(Prompt prompt, SamplerSettings settings, Consumer<String> onText) {
        Objects.requireNonNull(onText, "onText");
        try (Generation g = start(prompt, settings)) {
            return g.drain(onText);
        }
    }

    /** The pieces of a generation with the default settings; close the stream to cancel it. */
    public Stream<String> stream(Prompt prompt) {
        return start(prompt, settings).stream();
    }

    /** Starts a generation with the default settings (the prompt is fed before this returns). */
    public Generation start(Prompt prompt) {
        return start(prompt, settings);
    }

    /**
     * Feeds the prompt and returns the generation, ready to be pulled.
     *
     * @throws IllegalStateException if another generation is running on this generator, or it is
     *                               closed
     */
    public Generation start(Prompt prompt, SamplerSettings settings) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(settings, "settings");
        int[] tokens = tokenizer.encodePrompt(prompt.text());
        AtomicBoolean flag;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("generator is closed");
            }
            if (busy) {
                throw new IllegalStateException("another generation is running on this generator");
            }
            flag = new AtomicBoolean();
            cancelled = flag;
            busy = true;
        }
        try {
            long start = System.nanoTime();
            int cached = feedPrompt(model, cache, tokens, state, logits);
            Duration promptTime = Duration.ofNanos(System.nanoTime() - start);
            Sampler sampler = new Sampler(withUnknownIdsBanned(settings, tokenizer, model));
            GenerationLoop loop = new GenerationLoop(model, tokenizer, state, logits, sampler, prompt.stopStrings(),
                    false, flag);
            return new Generation(loop, flag, tokens.length - cached, cached, promptTime, this::finished);
        } catch (RuntimeException | Error e) {
            finished();
            throw e;
        }
    }

    /**
     * Starts {@code state} from the longest prefix of {@code tokens} held by {@code cache} (or
     * from the initial state) and feeds the rest in sequence mode, leaving the logits after the
     * last token in {@code logits}.
     *
     * @return the number of tokens restored from the cache
     */
    static int feedPrompt(RwkvModel model, PrefixCache cache, int[] tokens, RwkvState state, Logits logits) {
        int cached = cache == null ? 0 : cache.restoreLongestPrefix(tokens, state, logits);
        if (cached == 0) {
            state.reset();
        }
        if (cached < tokens.length) {
            int[] rest = cached == 0 ? tokens : Arrays.copyOfRange(tokens, cached, tokens.length);
            model.evalSequence(rest, PROMPT_CHUNK, state, logits);
        }
        return cached;
    }

    private void finished() {
        boolean free;
        synchronized (lock) {
            busy = false;
            free = closed;
        }
        if (free) {
            free();
        }
    }

    /** Cancels the running generation, if any (thread-safe; it ends before its next token). */
    public void cancel() {
        cancelled.set(true);
    }

    /**
     * Frees the state and logits buffer; a running generation is cancelled first (its buffers are
     * freed when it has ended). Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (busy) {
                cancel();
                return;
            }
        }
        free();
    }

    private void free() {
        state.close();
        logits.close();
    }

    /** The tokenizer. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The model. */
    public RwkvModel model() {
        return model;
    }

    @Override
    public String toString() {
        return "Generator[" + model.path().getFileName() + ", " + tokenizer.kind() + "]";
    }
}
