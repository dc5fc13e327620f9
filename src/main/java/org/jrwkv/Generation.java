package org.jrwkv;

import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A generation in progress, pulled piece by piece: each {@link #next()} runs the model until some
 * text is final and returns it (never empty, never a broken character, never part of a stop
 * string). Made by {@link Generator#start}; the prompt has already been fed.
 *
 * <p>{@link #cancel()} may be called from any other thread; the generation then ends before its
 * next token. {@link #close()} cancels it and frees the generator for the next one; closing the
 * {@link #stream()} does the same. After the last piece, {@link #result()} has the counts and
 * timing.
 *
 * <p>Not thread-safe apart from {@link #cancel()}: pull from one thread.
 */
public final class Generation implements Iterator<String>, AutoCloseable {

    private final GenerationLoop loop;
    private final AtomicBoolean cancelled;
    private final int promptTokens;
    private final int cachedTokens;
    private final Duration promptTime;
    private final Runnable onEnd;
    private String next;
    private boolean ended;
    private GenerationResult result;

    Generation(GenerationLoop loop, AtomicBoolean cancelled, int promptTokens, int cachedTokens, Duration promptTime,
            Runnable onEnd) {
        this.loop = loop;
        this.cancelled = cancelled;
        this.promptTokens = promptTokens;
        this.cachedTokens = cachedTokens;
        this.promptTime = promptTime;
        this.onEnd = onEnd;
    }

    /** Whether another piece of text will come (runs the model until it knows). */
    @Override
    public boolean hasNext() {
        while (next == null && !ended) {
            String piece;
            try {
                piece = loop.step();
            } catch (RuntimeException | Error e) {
                end();
                throw e;
            }
            if (piece == null) {
                end();
            } else if (!piece.isEmpty()) {
                next = piece;
            }
        }
        return next != null;
    }

    /** The next piece of text. */
    @Override
    public String next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the generation has ended");
        }
        String piece = next;
        next = null;
        return piece;
    }

    /**
     * Runs the generation to its end on the calling thread, passing each remaining piece to
     * {@code onText}, and returns the result.
     */
    public GenerationResult drain(Consumer<String> onText) {
        while (hasNext()) {
            onText.accept(next());
        }
        return result();
    }

    /** The pieces as a stream; closing it cancels the generation. */
    public Stream<String> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(this::close);
    }

    /** Asks the generation to end before its next token (thread-safe). */
    public void cancel() {
        cancelled.set(true);
    }

    /** Whether the generation has ended (all pieces were pulled). */
    public boolean isDone() {
        return ended && next == null;
    }

    /**
     * The text, token counts and timing.
     *
     * @throws IllegalStateException if pieces remain to be pulled
     */
    public GenerationResult result() {
        if (!isDone()) {
            throw new IllegalStateException("the generation has not ended; pull every piece or close it first");
        }
        return result;
    }

    /** Cancels the generation if it is running and frees its generator. Idempotent. */
    @Override
    public void close() {
        if (!ended) {
            cancel();
            while (hasNext()) {
                next();
            }
        }
    }

    private void end() {
        if (!ended) {
            ended = true;
            try {
                if (loop.isDone()) {
                    result = loop.result(promptTokens, cachedTokens, promptTime);
                }
            } finally {
                onEnd.run();
            }
        }
    }
}
