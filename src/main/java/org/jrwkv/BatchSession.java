package org.jrwkv;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One generation inside a {@link BatchGenerator}: its prompt (already fed), sampler, stop rules,
 * state and callback. Made by {@link BatchGenerator#add}; advanced by the generator's steps.
 *
 * <p>Thread-safe: {@link #cancel()}, {@link #isDone()}, {@link #generatedTokens()} and
 * {@link #result()} may be called from any thread, for example by the request thread of a
 * server while another thread runs the steps.
 */
public final class BatchSession {

    private final Prompt prompt;
    private final SamplerSettings settings;
    private final Consumer<String> onText;
    private final int promptTokens;
    private final int cachedTokens;
    private final Duration promptTime;
    private final AtomicBoolean cancelled;
    private final GenerationLoop loop;
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    /** Text sampled in the current step, not yet passed to the callback. */
    private String undelivered;
    private volatile int generated;
    private volatile boolean done;

    BatchSession(Prompt prompt, SamplerSettings settings, Consumer<String> onText, int promptTokens,
            int cachedTokens, Duration promptTime, AtomicBoolean cancelled, GenerationLoop loop) {
        this.prompt = prompt;
        this.settings = settings;
        this.onText = onText;
        this.promptTokens = promptTokens;
        this.cachedTokens = cachedTokens;
        this.promptTime = promptTime;
        this.cancelled = cancelled;
        this.loop = loop;
    }

    /** The prompt. */
    public Prompt prompt() {
        return prompt;
    }

    /** The settings this session samples with. */
    public SamplerSettings settings() {
        return settings;
    }

    /**
     * Asks the session to end before its next token (at the generator's next step, with
     * {@link StopReason#CANCELLED}). To end it at once, use {@link BatchGenerator#remove}.
     */
    public void cancel() {
        cancelled.set(true);
    }

    /** Whether the session has ended (its {@link #result()} is complete). */
    public boolean isDone() {
        return done;
    }

    /** Tokens generated so far. */
    public int generatedTokens() {
        return generated;
    }

    /**
     * The result, completed when the session ends: normally, or exceptionally if its callback,
     * its sampler or the model failed.
     */
    public CompletableFuture<GenerationResult> result() {
        return result;
    }

    @Override
    public String toString() {
        return "BatchSession[" + generated + " tokens" + (done ? ", done]" : "]");
    }

    // ---- for BatchGenerator, which holds its lock ----

    GenerationLoop loop() {
        return loop;
    }

    /** Samples the next token; the text is kept until {@link #deliver()}. */
    void sample() {
        String piece = loop.sampleNext();
        generated = loop.generatedCount();
        if (piece != null && !piece.isEmpty()) {
            undelivered = undelivered == null ? piece : undelivered + piece;
        }
    }

    /** Passes the text sampled in this step to the callback. */
    void deliver() {
        String piece = undelivered;
        undelivered = null;
        if (piece != null) {
            onText.accept(piece);
        }
    }

    /** Ends the session with its result (the loop has ended). */
    void complete() {
        GenerationResult r = loop.result(promptTokens, cachedTokens, promptTime);
        free();
        result.complete(r);
    }

    /** Ends the session with a failure. */
    void fail(Throwable failure) {
        free();
        result.completeExceptionally(failure);
    }

    private void free() {
        done = true;
        loop.state().close();
        loop.logits().close();
    }
}
