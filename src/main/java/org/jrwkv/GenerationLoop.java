package org.jrwkv;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jrwkv.internal.text.IntList;

/**
 * The token-by-token part of a generation, shared by {@link Generator} and {@link ChatSession}:
 * sample from the current logits, stop on end-of-text / stop tokens / stop strings / the token
 * limit / cancellation, record the token for the penalties, decode it incrementally, hold back
 * text that may be the start of a stop string, and feed the token to get the next logits.
 *
 * <p>In "feed last" mode (chat) every accepted token is fed, so the state holds the whole reply
 * including the stop string; otherwise (one-shot generation) the last token is not fed, as in the
 * reference pipeline, saving one evaluation.
 *
 * <p>A step is two halves: {@link #sampleNext()} does everything but evaluating the model and
 * leaves the token to feed in {@link #takeTokenToFeed()}; feeding it updates the state and
 * logits. {@link #step()} does both, one token at a time; {@link BatchGenerator} feeds the tokens
 * of many loops in one batch call instead.
 *
 * <p>Per step it allocates only the text piece it returns.
 */
final class GenerationLoop {

    private final RwkvModel model;
    private final Tokenizer tokenizer;
    private final RwkvState state;
    private final Logits logits;
    private final Sampler sampler;
    private final int endOfText;
    private final boolean[] stopTokens;
    private final String[] stopStrings;
    private final int maxTokens;
    private final boolean feedLast;
    private final AtomicBoolean cancelled;

    private final StreamingDecoder decoder;
    private final StringBuilder pending = new StringBuilder();
    private final StringBuilder text = new StringBuilder();
    private final IntList tokens = new IntList(64);
    private final long startNanos = System.nanoTime();
    private long endNanos;
    private StopReason stopReason;
    private String matchedStop;
    /** The token {@link #sampleNext()} accepted and that must be fed before the next one, or -1. */
    private int toFeed = -1;

    GenerationLoop(RwkvModel model, Tokenizer tokenizer, RwkvState state, Logits logits, Sampler sampler,
            List<String> extraStops, boolean feedLast, AtomicBoolean cancelled) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.state = state;
        this.logits = logits;
        this.sampler = sampler;
        SamplerSettings settings = sampler.settings();
        this.endOfText = tokenizer.endOfText().orElse(-1);
        this.stopTokens = new boolean[model.vocabSize()];
        for (int id : settings.stopTokens()) {
            if (id < stopTokens.length) {
                stopTokens[id] = true;
            }
        }
        List<String> stops = new ArrayList<>(settings.stopStrings());
        for (String s : extraStops) {
            if (!stops.contains(s)) {
                stops.add(s);
            }
        }
        this.stopStrings = stops.toArray(new String[0]);
        this.maxTokens = settings.maxTokens();
        this.feedLast = feedLast;
        this.cancelled = cancelled;
        this.decoder = new StreamingDecoder(tokenizer);
    }

    /** Whether generation has ended. */
    boolean isDone() {
        return stopReason != null;
    }

    /**
     * One step: at most one token, sampled and fed.
     *
     * @return the text that became final in this step (may be empty), or {@code null} once done
     */
    String step() {
        String piece = sampleNext();
        int token = takeTokenToFeed();
        if (token >= 0) {
            model.eval(token, state, logits);
        }
        return piece;
    }

    /**
     * One step without evaluating the model: samples a token from the current logits, decides
     * whether it ends the generation, and leaves it in {@link #takeTokenToFeed()} if it must be
     * fed. The caller feeds it into this loop's state and logits before the next call.
     *
     * @return the text that became final in this step (may be empty), or {@code null} once done
     * @throws IllegalStateException if the token of the previous step was not taken
     */
    String sampleNext() {
        if (toFeed >= 0) {
            throw new IllegalStateException("the token of the previous step has not been fed");
        }
        if (stopReason != null) {
            return null;
        }
        if (cancelled.get()) {
            return finish(StopReason.CANCELLED);
        }
        if (tokens.size() >= maxTokens) {
            return finish(StopReason.MAX_TOKENS);
        }
        int token = sampler.sample(logits);
        if (token == endOfText) {
            return finish(StopReason.END_OF_TEXT);
        }
        if (stopTokens[token]) {
            return finish(StopReason.STOP_TOKEN);
        }
        tokens.add(token);
        sampler.accept(token, Sampler.penaltyWeight(tokenizer, token));
        int before = pending.length();
        decoder.accept(token, pending);
        String emitted = "";
        if (pending.length() > before) {
            int stopAt = findStop(Math.max(0, before - longestStop() + 1));
            if (stopAt >= 0) {
                emitted = take(stopAt);
                pending.setLength(0);
                if (feedLast) {
                    toFeed = token;
                }
                stopReason = StopReason.STOP_STRING;
                endNanos = System.nanoTime();
                return emitted;
            }
            emitted = take(pending.length() - heldBack());
        }
        if (feedLast || tokens.size() < maxTokens) {
            toFeed = token;
        }
        return emitted;
    }

    /**
     * The token the last {@link #sampleNext()} accepted and that must now be fed into this loop's
     * state (with this loop's logits as output), or -1 if none; clears it.
     */
    int takeTokenToFeed() {
        int token = toFeed;
        toFeed = -1;
        return token;
    }

    /** The state this loop samples from and feeds. */
    RwkvState state() {
        return state;
    }

    /** The logits buffer this loop samples from. */
    Logits logits() {
        return logits;
    }

    /** Ends generation: the text held back (an incomplete character, a partial stop string). */
    private String finish(StopReason reason) {
        stopReason = reason;
        endNanos = System.nanoTime();
        pending.append(decoder.flush());
        return take(pending.length());
    }

    /** Removes and returns the first {@code count} chars of the pending text. */
    private String take(int count) {
        if (count <= 0) {
            return "";
        }
        String s = pending.substring(0, count);
        pending.delete(0, count);
        text.append(s);
        return s;
    }

    /** Index of the earliest stop string in the pending text, searching from {@code from}, or -1. */
    private int findStop(int from) {
        int best = -1;
        for (String s : stopStrings) {
            int at = pending.indexOf(s, from);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
                matchedStop = s;
            }
        }
        return best;
    }

    private int longestStop() {
        int longest = 0;
        for (String s : stopStrings) {
            longest = Math.max(longest, s.length());
        }
        return longest;
    }

    /** Length of the longest end of the pending text that is a proper prefix of a stop string. */
    private int heldBack() {
        int n = pending.length();
        int keep = 0;
        for (String s : stopStrings) {
            for (int k = Math.min(s.length() - 1, n); k > keep; k--) {
                if (regionMatches(n - k, s, k)) {
                    keep = k;
                    break;
                }
            }
        }
        return keep;
    }

    private boolean regionMatches(int start, String s, int length) {
        for (int i = 0; i < length; i++) {
            if (pending.charAt(start + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The stop string that ended generation, if it ended on one. */
    String matchedStop() {
        return stopReason == StopReason.STOP_STRING ? matchedStop : null;
    }

    /** Number of tokens generated so far. */
    int generatedCount() {
        return tokens.size();
    }

    /** The result, once done. */
    GenerationResult result(int promptTokens, int cachedTokens, Duration promptTime) {
        if (stopReason == null) {
            throw new IllegalStateException("generation has not ended");
        }
        List<Integer> ids = new ArrayList<>(tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            ids.add(tokens.get(i));
        }
        return new GenerationResult(text.toString(), ids, promptTokens, cachedTokens, stopReason, promptTime,
                Duration.ofNanos(endNanos - startNanos));
    }
}
