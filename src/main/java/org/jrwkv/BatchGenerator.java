package org.jrwkv;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Generates for many independent sessions at once, the way a server does: every
 * {@link #step()} advances each active session by one token, and the tokens of all of them are
 * fed to the model in one {@link RwkvModel#evalBatch batch call}, which reads the weights once for
 * all sessions instead of once per session.
 *
 * <pre>{@code
 * try (BatchGenerator batch = new BatchGenerator(model, tokenizer)) {
 *     BatchSession a = batch.add(PromptFormat.questionAnswer().prompt("What is RWKV?"),
 *             SamplerSettings.defaults().withSeed(1), System.out::print);
 *     BatchSession b = batch.add(Prompt.of("Once upon a time"), SamplerSettings.defaults().withSeed(2));
 *     batch.runUntilDone();                        // or: while (batch.step() > 0) { ... add more ... }
 *     System.out.println(b.result().join().text());
 * }
 * }</pre>
 *
 * <p>Each session has its own prompt, sampler settings (seed, penalties, token limit), stop
 * strings and tokens, callback, state and logits buffer, and produces exactly what a
 * {@link Generator} with the same model, tokenizer, prompt and settings produces: the sampling
 * and stop rules are the same code, and a batch evaluation equals single evaluations bit for bit.
 *
 * <p>Sessions come and go between steps: {@link #add} feeds the prompt (in sequence mode, chunks
 * of 64, from the longest cached prefix if a {@link PrefixCache} was given) on the calling thread
 * and joins the session to the next step; a session leaves when it ends (end-of-text, stop
 * token or string, token limit, {@link BatchSession#cancel()}), when {@link #remove} is called, or
 * when it fails (its callback, its sampler or the model threw; its result then completes
 * exceptionally, and the others go on).
 *
 * <p>Threads: all methods are thread-safe. Steps are serialized; callbacks run on the thread
 * that calls {@link #step()}, after the step's batch evaluation, and may call {@link #add},
 * {@link #remove} and {@link BatchSession#cancel()}. A prompt fed by {@link #add} on another
 * thread interleaves with the steps (the model serializes its calls). The generator does not own
 * the model, the tokenizer or the cache.
 */
public final class BatchGenerator implements AutoCloseable {

    private final RwkvModel model;
    private final Tokenizer tokenizer;
    private final PrefixCache cache;
    private final Object lock = new Object();
    private final List<BatchSession> active = new ArrayList<>();
    private boolean closed;

    /**
     * A batch generator without prefix cache.
     *
     * @throws IllegalArgumentException if the tokenizer has more ids than the model has logits
     */
    public BatchGenerator(RwkvModel model, Tokenizer tokenizer) {
        this(model, tokenizer, null);
    }

    /**
     * A batch generator that starts each session from the longest prefix of its prompt held by
     * {@code cache}.
     *
     * @param cache a cache made with the same tokenizer and a model of the same shape, or null
     * @throws IllegalArgumentException if the tokenizer has more ids than the model has logits, or
     *                                  the cache belongs to another tokenizer
     */
    public BatchGenerator(RwkvModel model, Tokenizer tokenizer, PrefixCache cache) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        Generator.checkVocabulary(model, tokenizer);
        if (cache != null && cache.tokenizer() != tokenizer) {
            throw new IllegalArgumentException("the prefix cache was made with another tokenizer");
        }
        this.cache = cache;
    }

    /** Adds a session without callback (see {@link #add(Prompt, SamplerSettings, Consumer)}). */
    public BatchSession add(Prompt prompt, SamplerSettings settings) {
        return add(prompt, settings, piece -> { });
    }

    /**
     * Feeds the prompt into a new state (on the calling thread) and adds the session to the next
     * step.
     *
     * @param onText receives each piece of text as soon as it is final (never a broken character
     *               or part of a stop string), on the thread that runs the steps
     * @return the session
     * @throws IllegalStateException if this generator or the model is closed
     * @throws RwkvException         if the model fails to feed the prompt
     */
    public BatchSession add(Prompt prompt, SamplerSettings settings, Consumer<String> onText) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(onText, "onText");
        ensureOpen();
        int[] tokens = tokenizer.encodePrompt(prompt.text());
        RwkvState state = model.newState();
        Logits logits = null;
        BatchSession session;
        try {
            logits = model.newLogits();
            long start = System.nanoTime();
            int cached = Generator.feedPrompt(model, cache, tokens, state, logits);
            Duration promptTime = Duration.ofNanos(System.nanoTime() - start);
            AtomicBoolean cancelled = new AtomicBoolean();
            Sampler sampler = new Sampler(Generator.withUnknownIdsBanned(settings, tokenizer, model));
            GenerationLoop loop = new GenerationLoop(model, tokenizer, state, logits, sampler, prompt.stopStrings(),
                    false, cancelled);
            session = new BatchSession(prompt, settings, onText, tokens.length - cached, cached, promptTime,
                    cancelled, loop);
        } catch (RuntimeException | Error e) {
            state.close();
            if (logits != null) {
                logits.close();
            }
            throw e;
        }
        synchronized (lock) {
            if (closed) {
                session.fail(new IllegalStateException("batch generator is closed"));
                throw new IllegalStateException("batch generator is closed");
            }
            active.add(session);
        }
        return session;
    }

    /**
     * Advances every active session by one token: samples from each session's logits, then feeds
     * all the sampled tokens in one batch evaluation, then passes the new text to the callbacks
     * and completes the sessions that ended.
     *
     * @return the number of sessions still active after this step (0: nothing to do)
     * @throws IllegalStateException if this generator is closed
     * @throws RwkvException         if the batch evaluation fails (the sessions of this step then
     *                               fail too; their results complete exceptionally)
     */
    public int step() {
        synchronized (lock) {
            ensureOpenLocked();
            BatchSession[] sessions = active.toArray(new BatchSession[0]);
            int[] tokens = new int[sessions.length];
            RwkvState[] states = new RwkvState[sessions.length];
            Logits[] outs = new Logits[sessions.length];
            BatchSession[] fed = new BatchSession[sessions.length];
            int count = 0;
            for (BatchSession s : sessions) {
                try {
                    s.sample();
                } catch (RuntimeException | Error e) {
                    drop(s, e);
                    continue;
                }
                int token = s.loop().takeTokenToFeed();
                if (token >= 0) {
                    tokens[count] = token;
                    states[count] = s.loop().state();
                    outs[count] = s.loop().logits();
                    fed[count++] = s;
                }
            }
            if (count > 0) {
                try {
                    if (count < sessions.length) {
                        tokens = Arrays.copyOf(tokens, count);
                        states = Arrays.copyOf(states, count);
                        outs = Arrays.copyOf(outs, count);
                    }
                    model.evalBatch(tokens, states, outs);
                } catch (RuntimeException | Error e) {
                    for (int i = 0; i < count; i++) {
                        drop(fed[i], e);
                    }
                    throw e;
                }
            }
            for (BatchSession s : sessions) {
                if (!s.isDone()) {
                    deliver(s);
                }
            }
            for (BatchSession s : sessions) {
                if (!s.isDone() && s.loop().isDone()) {
                    active.remove(s);
                    s.complete();
                }
            }
            return active.size();
        }
    }

    /** Steps until no session is active (sessions added meanwhile included). */
    public void runUntilDone() {
        while (step() > 0) {
            // each step does the work
        }
    }

    /**
     * Ends a session now, between steps: its held-back text goes to its callback and its result
     * completes with {@link StopReason#CANCELLED}.
     *
     * @return false if the session had already ended (or is not one of this generator's)
     */
    public boolean remove(BatchSession session) {
        Objects.requireNonNull(session, "session");
        synchronized (lock) {
            if (!active.contains(session)) {
                return false;
            }
            end(session);
            return true;
        }
    }

    /** The number of active sessions. */
    public int activeCount() {
        synchronized (lock) {
            return active.size();
        }
    }

    /** The active sessions, in the order they were added. */
    public List<BatchSession> sessions() {
        synchronized (lock) {
            return List.copyOf(active);
        }
    }

    /**
     * Ends every active session as {@link #remove} does and frees their buffers; later calls of
     * {@link #add} and {@link #step()} throw {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            for (BatchSession s : active.toArray(new BatchSession[0])) {
                end(s);
            }
        }
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** The model. */
    public RwkvModel model() {
        return model;
    }

    /** The tokenizer. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    // ---- with the lock held ----

    /** Cancels and finishes an active session: the rest of its text to the callback, then the result. */
    private void end(BatchSession s) {
        active.remove(s);
        s.cancel();
        try {
            s.deliver();    // text of the current step not yet delivered, if any
            s.sample();     // cancelled: takes no token, releases the held-back text
            s.deliver();
        } catch (RuntimeException | Error e) {
            s.fail(e);
            return;
        }
        s.complete();
    }

    private void deliver(BatchSession s) {
        try {
            s.deliver();
        } catch (RuntimeException | Error e) {
            drop(s, e);
        }
    }

    /** Removes a failed session; its result completes exceptionally. */
    private void drop(BatchSession s, Throwable failure) {
        active.remove(s);
        if (!s.isDone()) {
            s.fail(failure);
        }
    }

    private void ensureOpen() {
        synchronized (lock) {
            ensureOpenLocked();
        }
    }

    private void ensureOpenLocked() {
        if (closed) {
            throw new IllegalStateException("batch generator is closed");
        }
    }

    @Override
    public String toString() {
        return "BatchGenerator[" + model.path().getFileName() + ", " + activeCount() + " active]";
    }
}
