package org.jrwkv;

import java.util.Objects;
import org.jrwkv.internal.text.Utf8Stream;

/**
 * Turns tokens into text one token at a time, for printing while a model generates. Tokens often
 * split a character (an emoji is usually three tokens); this decoder never emits a broken one: it
 * emits every complete character at once, holds back only an incomplete trailing sequence that
 * can still become valid (at most 3 bytes), and emits U+FFFD at once for bytes that can never be
 * valid. {@link #flush()} ends the stream (a held-back tail becomes U+FFFD). The concatenated
 * output equals {@link Tokenizer#decode} of all the tokens.
 *
 * <p>Unlike the reference chat scripts, which wait until the pending text has no U+FFFD, a model
 * that emits invalid bytes does not stall the output here.
 *
 * <p>Not thread-safe: one decoder per stream.
 */
public final class StreamingDecoder {

    private final Tokenizer tokenizer;
    private final Utf8Stream utf8 = new Utf8Stream();
    private final StringBuilder scratch = new StringBuilder(16);

    /** A decoder for the tokens of {@code tokenizer}. */
    public StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /**
     * Decodes one more token.
     *
     * @return the text that became complete ("" while a character is incomplete)
     * @throws IllegalArgumentException if the id is not in {@code [0, vocabSize())}
     */
    public String accept(int token) {
        scratch.setLength(0);
        accept(token, scratch);
        return scratch.length() == 0 ? "" : scratch.toString();
    }

    /**
     * Decodes one more token, appending the text that became complete to {@code out}.
     *
     * @throws IllegalArgumentException if the id is not in {@code [0, vocabSize())}
     */
    public void accept(int token, StringBuilder out) {
        byte[] bytes = bytesView(tokenizer, token);
        utf8.feed(bytes, 0, bytes.length, out);
    }

    /** Whether an incomplete character is held back. */
    public boolean hasPending() {
        return utf8.hasPending();
    }

    /**
     * Ends the stream: returns U+FFFD if an incomplete character was held back, else "". The
     * decoder can then be reused for a new stream.
     */
    public String flush() {
        if (!utf8.hasPending()) {
            return "";
        }
        scratch.setLength(0);
        utf8.finish(scratch);
        return scratch.toString();
    }

    /** Forgets a held-back incomplete character (starts a new stream). */
    public void reset() {
        utf8.reset();
    }

    /** The bytes of a token without copying them. */
    static byte[] bytesView(Tokenizer tokenizer, int id) {
        if (tokenizer instanceof WorldTokenizer) {
            return ((WorldTokenizer) tokenizer).bytesView(id);
        }
        if (tokenizer instanceof NeoxTokenizer) {
            return ((NeoxTokenizer) tokenizer).bytesView(id);
        }
        return ((ByteTokenizer) tokenizer).bytesView(id);
    }
}
