package org.jrwkv;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalInt;
import org.jrwkv.internal.text.ByteTrie;
import org.jrwkv.internal.text.IntList;
import org.jrwkv.internal.text.StrictUtf8;
import org.jrwkv.internal.text.TokenTable;
import org.jrwkv.internal.text.WorldVocabulary;

/**
 * The RWKV World tokenizer: greedy longest match of the text's UTF-8 bytes against the
 * vocabulary ({@code rwkv_vocab_v20230424.txt}, ids 1..65529), through a byte trie. No
 * normalization and no special-token parsing: the text {@code <|endoftext|>} is ordinary bytes.
 *
 * <p>Id 0 is the end-of-text token: it has no bytes (decodes to "") and is never produced by
 * {@link #encode}. Encoding allocates only its result (no per-character objects).
 */
public final class WorldTokenizer implements Tokenizer {

    private static final byte[] EMPTY = new byte[0];

    private final String source;
    private final byte[][] tokens;
    private final ByteTrie trie;

    private WorldTokenizer(String source, byte[][] tokens, ByteTrie trie) {
        this.source = source;
        this.tokens = tokens;
        this.trie = trie;
    }

    /**
     * Loads a World vocabulary file.
     *
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException if the content is damaged (the message names the line)
     */
    public static WorldTokenizer load(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        return parse(Files.readAllBytes(file), file.toString());
    }

    /**
     * Loads a World vocabulary from a stream (read to its end, not closed).
     *
     * @param source names the content in messages
     * @throws IOException              if reading fails
     * @throws IllegalArgumentException if the content is damaged (the message names the line)
     */
    public static WorldTokenizer load(InputStream in, String source) throws IOException {
        Objects.requireNonNull(in, "in");
        return parse(in.readAllBytes(), source);
    }

    private static WorldTokenizer parse(byte[] content, String source) {
        WorldVocabulary vocab = WorldVocabulary.parse(content, source);
        byte[][] tokens = new byte[vocab.idLimit][];
        Arrays.fill(tokens, EMPTY);
        for (int i = 0; i < vocab.ids.length; i++) {
            tokens[vocab.ids[i]] = vocab.tokens[i];
        }
        ByteTrie trie;
        try {
            trie = ByteTrie.build(vocab.tokens, vocab.ids);
        } catch (ByteTrie.DuplicateKeyException e) {
            throw new IllegalArgumentException(source + ": tokens " + e.first() + " and " + e.second()
                    + " have the same bytes");
        }
        return new WorldTokenizer(source, tokens, trie);
    }

    @Override
    public Kind kind() {
        return Kind.WORLD;
    }

    /** One more than the largest id in the file (65530 for {@code rwkv_vocab_v20230424.txt}). */
    @Override
    public int vocabSize() {
        return tokens.length;
    }

    /** 0. */
    @Override
    public OptionalInt endOfText() {
        return OptionalInt.of(0);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException also if the vocabulary lacks a single-byte token that the
     *                                  text needs (never with the standard file, which has all 256)
     */
    @Override
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        byte[] bytes = StrictUtf8.encode(text);
        IntList out = new IntList(bytes.length);
        trie.encode(bytes, 0, bytes.length, out);
        return out.toArray();
    }

    /**
     * The tokens of UTF-8 bytes (which need not be valid UTF-8: every byte has a token).
     *
     * @throws IllegalArgumentException if the vocabulary lacks a single-byte token that the bytes
     *                                  need (never with the standard file)
     */
    public int[] encode(byte[] utf8) {
        Objects.requireNonNull(utf8, "utf8");
        IntList out = new IntList(utf8.length);
        trie.encode(utf8, 0, utf8.length, out);
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, int from, int to) {
        return TokenTable.decode(tokens, ids, from, to);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return bytesView(id).clone();
    }

    /** The token's bytes, shared (never modified). */
    byte[] bytesView(int id) {
        return TokenTable.view(tokens, id);
    }

    @Override
    public String toString() {
        return "WorldTokenizer[" + source + ", " + tokens.length + " ids]";
    }
}
