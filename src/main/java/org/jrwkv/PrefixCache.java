package org.jrwkv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * States of reusable prompt prefixes (a long system prompt, few-shot examples): each prefix is fed
 * to the model once, and every later generation whose prompt starts with its tokens starts from
 * the saved state and feeds only the rest.
 *
 * <pre>{@code
 * PrefixCache cache = new PrefixCache(model, tokenizer, 8);
 * cache.add("System: You are a terse assistant.\n\n");
 * Generator generator = new Generator(model, tokenizer, settings, cache);
 * generator.generate(PromptFormat.chat("You are a terse assistant.").prompt("Hi"));  // feeds only "User: Hi..."
 * }</pre>
 *
 * <p>Matching is by tokens, not text: a prefix is used when the prompt's tokens start with the
 * prefix's tokens, which is exact (the state after those tokens is the same). A prefix whose last
 * token would merge with the text after it (a prefix ending inside a word) simply never matches;
 * end prefixes at a natural boundary such as the turn separator. The prefix is encoded as a prompt
 * ({@link Tokenizer#encodePrompt}), so that a GPT-NeoX prefix ending in {@code "\n\n"} matches the
 * {@code 187, 187} it becomes inside a longer prompt.
 *
 * <p>The least recently used prefix is dropped when the cache is full. Thread-safe: generators on
 * several threads (with copies of the model) can share one cache. Holds one state per prefix
 * (off-heap); close it when done.
 */
public final class PrefixCache implements AutoCloseable {

    private static final class Entry {
        final int[] tokens;
        final RwkvState state;
        final float[] logits;
        long lastUsed;

        Entry(int[] tokens, RwkvState state, float[] logits) {
            this.tokens = tokens;
            this.state = state;
            this.logits = logits;
        }
    }

    private final RwkvModel model;
    private final Tokenizer tokenizer;
    private final int capacity;
    private final List<Entry> entries = new ArrayList<>();
    private long clock;
    private long hits;
    private boolean closed;

    /**
     * An empty cache.
     *
     * @param model     the model that computes the prefixes' states (generators may use copies
     *                  of it, or any model of the same shape)
     * @param tokenizer the tokenizer of the generators that use this cache
     * @param capacity  at most this many prefixes are kept, at least 1
     */
    public PrefixCache(RwkvModel model, Tokenizer tokenizer, int capacity) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        Generator.checkVocabulary(model, tokenizer);
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /** The tokenizer the prefixes were encoded with. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Feeds a prefix to the model and keeps its state (nothing is done if it is already cached).
     *
     * @return the number of tokens of the prefix
     * @throws IllegalArgumentException if the prefix is empty
     * @throws IllegalStateException    if the cache is closed
     */
    public int add(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        if (prefix.isEmpty()) {
            throw new IllegalArgumentException("prefix must not be empty");
        }
        return add(tokenizer.encodePrompt(prefix));
    }

    /**
     * Feeds a prefix given as tokens and keeps its state (nothing is done if it is cached).
     *
     * @return the number of tokens
     */
    public synchronized int add(int[] tokens) {
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) {
            throw new IllegalArgumentException("prefix must not be empty");
        }
        ensureOpen();
        for (Entry e : entries) {
            if (Arrays.equals(e.tokens, tokens)) {
                e.lastUsed = ++clock;
                return tokens.length;
            }
        }
        RwkvState state = model.newState();
        try (Logits logits = model.newLogits()) {
            model.evalSequence(tokens, Generator.PROMPT_CHUNK, state, logits);
            Entry entry = new Entry(tokens.clone(), state, logits.toArray());
            entry.lastUsed = ++clock;
            if (entries.size() == capacity) {
                Entry oldest = entries.get(0);
                for (Entry e : entries) {
                    if (e.lastUsed < oldest.lastUsed) {
                        oldest = e;
                    }
                }
                entries.remove(oldest);
                oldest.state.close();
            }
            entries.add(entry);
        } catch (RuntimeException | Error e) {
            state.close();
            throw e;
        }
        return tokens.length;
    }

    /**
     * Restores the state (and, if the whole prompt is cached, the logits) of the longest cached
     * prefix of {@code tokens} into {@code state}.
     *
     * @return the length of that prefix, or 0 if none matches (nothing is changed then)
     */
    synchronized int restoreLongestPrefix(int[] tokens, RwkvState state, Logits logits) {
        ensureOpen();
        Entry best = null;
        for (Entry e : entries) {
            if (e.tokens.length <= tokens.length && (best == null || e.tokens.length > best.tokens.length)
                    && Arrays.equals(e.tokens, 0, e.tokens.length, tokens, 0, e.tokens.length)) {
                best = e;
            }
        }
        if (best == null) {
            return 0;
        }
        state.copyFrom(best.state);
        if (best.tokens.length == tokens.length) {
            synchronized (logits.lock()) {
                logits.memoryForNativeCall().buffer().duplicate().put(best.logits);
            }
        }
        best.lastUsed = ++clock;
        hits++;
        return best.tokens.length;
    }

    /** Number of cached prefixes. */
    public synchronized int size() {
        return entries.size();
    }

    /** How many generations started from a cached prefix. */
    public synchronized long hits() {
        return hits;
    }

    /** Drops every prefix. */
    public synchronized void clear() {
        for (Entry e : entries) {
            e.state.close();
        }
        entries.clear();
    }

    /** Frees every state. Idempotent. */
    @Override
    public synchronized void close() {
        clear();
        closed = true;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("prefix cache is closed");
        }
    }
}
