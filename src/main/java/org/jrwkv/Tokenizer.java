package org.jrwkv;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Turns text into token ids and back, exactly as the reference tokenizers of RWKV models do.
 * Three kinds cover every RWKV model ({@link Kind}):
 *
 * <ul>
 *   <li>{@link WorldTokenizer}: the RWKV World vocabulary ({@code rwkv_vocab_v20230424.txt}),
 *       greedy longest match over UTF-8 bytes; all World / G-series models (n_vocab 65536);</li>
 *   <li>{@link NeoxTokenizer}: GPT-NeoX-20B byte-level BPE from a Hugging Face
 *       {@code tokenizer.json} ({@code 20B_tokenizer.json}); RWKV-4 Pile, Raven, Novel (50277);</li>
 *   <li>{@link ByteTokenizer}: token = byte, for byte-level test models (256).</li>
 * </ul>
 *
 * <p>Vocabularies are not bundled: they ship with the models. {@link #load(Path)} reads either
 * file and tells them apart by content; {@link #forModel(int, Path)} picks the file a model needs
 * by its vocabulary size and names it when it is missing.
 *
 * <p><b>Text.</b> Encoding takes the UTF-8 bytes of the text, without adding any token. A lone
 * surrogate (a {@code String} that is not valid UTF-16) cannot be encoded and is refused with an
 * {@link IllegalArgumentException}, as the Python references refuse it. Decoding concatenates the
 * tokens' bytes and decodes them as UTF-8, each maximal invalid subsequence becoming one U+FFFD;
 * to print tokens one at a time, use a {@link StreamingDecoder}.
 *
 * <p>Tokenizers are immutable and thread-safe.
 */
public sealed interface Tokenizer permits WorldTokenizer, NeoxTokenizer, ByteTokenizer {

    /** The three kinds of tokenizer, with the vocabulary file and model size of each. */
    enum Kind {
        /** RWKV World: greedy longest match over bytes. */
        WORLD("rwkv_vocab_v20230424.txt", 65536,
                "the RWKV World vocabulary, shipped with World models (also in the rwkv.cpp repository as "
                        + "python/rwkv_cpp/rwkv_vocab_v20230424.txt)"),
        /** GPT-NeoX-20B byte-level BPE. */
        NEOX("20B_tokenizer.json", 50277,
                "the GPT-NeoX-20B tokenizer of RWKV-4 Pile/Raven models (also in the rwkv.cpp repository as "
                        + "python/20B_tokenizer.json)"),
        /** One token per byte. */
        BYTES(null, 256, "none: token = byte");

        private final String fileName;
        private final int modelVocabSize;
        private final String description;

        Kind(String fileName, int modelVocabSize, String description) {
            this.fileName = fileName;
            this.modelVocabSize = modelVocabSize;
            this.description = description;
        }

        /** The usual name of the vocabulary file, or empty for {@link #BYTES}. */
        public Optional<String> fileName() {
            return Optional.ofNullable(fileName);
        }

        /** The n_vocab of the models that use this kind. */
        public int modelVocabSize() {
            return modelVocabSize;
        }

        /** Where the vocabulary file comes from, for messages. */
        public String description() {
            return description;
        }

        /** The kind that models with {@code vocabSize} logits use, if it is one of the three. */
        public static Optional<Kind> forModelVocabSize(int vocabSize) {
            for (Kind k : values()) {
                if (k.modelVocabSize == vocabSize) {
                    return Optional.of(k);
                }
            }
            return Optional.empty();
        }
    }

    /** Which kind this is. */
    Kind kind();

    /**
     * One more than the largest id this tokenizer knows: every id it produces is below it, and
     * decoding accepts ids in {@code [0, vocabSize())}. A model's n_vocab may be larger (World
     * models have 65536 rows; the World vocabulary ends at 65529, so this is 65530).
     */
    int vocabSize();

    /**
     * The end-of-text token (0 for World and GPT-NeoX), or empty if there is none (bytes). It is
     * never produced by {@link #encode}; generation treats it as the end.
     */
    OptionalInt endOfText();

    /**
     * The tokens of {@code text}.
     *
     * @throws IllegalArgumentException if the text holds a lone surrogate
     */
    int[] encode(String text);

    /**
     * The tokens to feed a model for a prompt: {@link #encode} plus the adjustment the reference
     * pipelines make for this kind. Only GPT-NeoX has one: a prompt that ends with
     * {@code "\n\n"} gets two {@code "\n"} tokens (187, 187) instead of the single 535, because
     * RWKV-4 models saw paragraph breaks inside text that way.
     *
     * @throws IllegalArgumentException if the text holds a lone surrogate
     */
    default int[] encodePrompt(String text) {
        return encode(text);
    }

    /**
     * The text of {@code ids} (invalid UTF-8 becomes U+FFFD).
     *
     * @throws IllegalArgumentException if an id is not in {@code [0, vocabSize())}
     */
    default String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    /**
     * The text of {@code ids[from, to)}.
     *
     * @throws IllegalArgumentException  if an id is not in {@code [0, vocabSize())}
     * @throws IndexOutOfBoundsException if the range is not within the array
     */
    String decode(int[] ids, int from, int to);

    /**
     * The bytes of one token (a new array; empty for the end-of-text token).
     *
     * @throws IllegalArgumentException if the id is not in {@code [0, vocabSize())}
     */
    byte[] tokenBytes(int id);

    /** The byte tokenizer (ids 0..255, token = byte). */
    static Tokenizer bytes() {
        return ByteTokenizer.INSTANCE;
    }

    /**
     * Loads a vocabulary file, telling the kind from its content: a JSON object is a Hugging Face
     * {@code tokenizer.json}, lines of {@code <id> <literal> <length>} are an RWKV World
     * vocabulary.
     *
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException if the content is neither, or is damaged (the message names
     *                                  the file and, for a World vocabulary, the line)
     */
    static Tokenizer load(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        try (InputStream in = Files.newInputStream(file)) {
            return load(in, file.toString());
        }
    }

    /**
     * Loads a vocabulary from a stream (read to its end, not closed), telling the kind from the
     * content as {@link #load(Path)} does.
     *
     * @param source names the content in messages (a file name or URL)
     * @throws IOException              if reading fails
     * @throws IllegalArgumentException if the content is neither kind, or is damaged
     */
    static Tokenizer load(InputStream in, String source) throws IOException {
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(source, "source");
        BufferedInputStream buffered = new BufferedInputStream(in, 1 << 16);
        // The first character that is not whitespace or a byte order mark tells the kind.
        buffered.mark(256);
        int first;
        int read = 0;
        do {
            first = buffered.read();
            read++;
        } while (read < 256 && (first == ' ' || first == '\t' || first == '\r' || first == '\n' || first == 0xEF
                || first == 0xBB || first == 0xBF));
        buffered.reset();
        if (first == '{') {
            return NeoxTokenizer.load(buffered, source);
        }
        if (first >= '0' && first <= '9') {
            return WorldTokenizer.load(buffered, source);
        }
        throw new IllegalArgumentException(source + (first < 0 ? " is empty" : " is not a tokenizer file")
                + ": expected a Hugging Face tokenizer.json (a JSON object) or an RWKV World vocabulary "
                + "(lines '<id> <literal> <length>')");
    }

    /**
     * The tokenizer a model needs, by its vocabulary size: 256 → {@link #bytes()}; 65536 → the
     * World vocabulary and 50277 → the GPT-NeoX-20B {@code tokenizer.json}, read from
     * {@code directory} under their usual names ({@link Kind#fileName()}).
     *
     * @param vocabSize the model's n_vocab ({@link RwkvModel#vocabSize()})
     * @param directory where the vocabulary file is expected
     * @throws NoSuchFileException      if the file is missing; the message names the file and
     *                                  where to get it
     * @throws IllegalArgumentException if no known tokenizer has this vocabulary size
     * @throws IOException              if the file cannot be read
     */
    static Tokenizer forModel(int vocabSize, Path directory) throws IOException {
        Objects.requireNonNull(directory, "directory");
        Kind kind = Kind.forModelVocabSize(vocabSize).orElseThrow(() -> new IllegalArgumentException(
                "no known tokenizer for a model with n_vocab " + vocabSize
                        + " (World: 65536, GPT-NeoX-20B: 50277, bytes: 256); choose the tokenizer file explicitly"));
        if (kind == Kind.BYTES) {
            return bytes();
        }
        Path file = directory.resolve(kind.fileName().orElseThrow());
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "models with n_vocab " + vocabSize + " need "
                    + kind.fileName().orElseThrow() + ", " + kind.description() + "; put it there or name it explicitly");
        }
        return load(file);
    }
}
