package org.jrwkv;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import org.jrwkv.internal.text.AddedTokenMatcher;
import org.jrwkv.internal.text.ByteLevelAlphabet;
import org.jrwkv.internal.text.BytePairEncoder;
import org.jrwkv.internal.text.GptPreTokenizer;
import org.jrwkv.internal.text.HuggingFaceBpeFile;
import org.jrwkv.internal.text.IntList;
import org.jrwkv.internal.text.LongLongMap;
import org.jrwkv.internal.text.StrictUtf8;
import org.jrwkv.internal.text.TokenTable;

/**
 * The GPT-NeoX-20B tokenizer of RWKV-4 Pile, Raven and Novel models: byte-level BPE read from a
 * Hugging Face {@code tokenizer.json} ({@code 20B_tokenizer.json}), encoding as the
 * {@code tokenizers} library's {@code encode(text).ids} does:
 *
 * <ol>
 *   <li>special added tokens ({@code <|endoftext|>} → 0, {@code <|padding|>} → 1) are found in
 *       the raw text, leftmost-longest, and become their ids (so user text can contain id 0);</li>
 *   <li>each remaining piece is NFC-normalized;</li>
 *   <li>normalized added tokens (runs of 2 to 24 spaces, ids 50254..50276) are found,
 *       leftmost-longest;</li>
 *   <li>the rest is split by GPT-2's pre-tokenizer pattern, and each pre-token's UTF-8 bytes are
 *       merged by BPE rank.</li>
 * </ol>
 *
 * No BOS/EOS tokens are added. Decoding maps every id back to its bytes, added tokens (special
 * ones included) to their content, with no clean-up of spaces.
 *
 * <p>Settings of other {@code tokenizer.json} files that this class does not implement (other
 * models, normalizers, pre-tokenizers, post-processors, added-token stripping) are refused when
 * loading, with a message naming them.
 */
public final class NeoxTokenizer implements Tokenizer {

    /** Pre-tokens up to this many chars are cached. */
    private static final int CACHE_PIECE_LIMIT = 32;
    private static final int CACHE_ENTRIES = 1 << 16;
    private static final byte[] EMPTY = new byte[0];

    private final String source;
    private final byte[][] tokens;
    private final boolean nfc;
    private final AddedTokenMatcher rawAdded;
    private final AddedTokenMatcher normalizedAdded;
    private final BytePairEncoder bpe;
    private final OptionalInt endOfText;
    private final int newline;
    private final int doubleNewline;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private NeoxTokenizer(String source, HuggingFaceBpeFile file) {
        this.source = source;
        this.nfc = file.nfc;
        int limit = 0;
        for (int id : file.vocab.values()) {
            limit = Math.max(limit, id + 1);
        }
        for (HuggingFaceBpeFile.AddedToken t : file.addedTokens) {
            limit = Math.max(limit, t.id() + 1);
        }
        tokens = new byte[limit][];
        Arrays.fill(tokens, EMPTY);
        for (Map.Entry<String, Integer> e : file.vocab.entrySet()) {
            try {
                tokens[e.getValue()] = ByteLevelAlphabet.bytesOf(e.getKey());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(source + ": vocabulary entry '" + e.getKey() + "' (id "
                        + e.getValue() + ") is not byte-level: " + ex.getMessage());
            }
        }
        List<String> rawContents = new ArrayList<>();
        List<Integer> rawIds = new ArrayList<>();
        List<String> normContents = new ArrayList<>();
        List<Integer> normIds = new ArrayList<>();
        int eot = -1;
        for (HuggingFaceBpeFile.AddedToken t : file.addedTokens) {
            tokens[t.id()] = t.content().getBytes(StandardCharsets.UTF_8);
            if (t.normalized()) {
                normContents.add(t.content());
                normIds.add(t.id());
            } else {
                rawContents.add(t.content());
                rawIds.add(t.id());
            }
            if (t.content().equals("<|endoftext|>")) {
                eot = t.id();
            }
        }
        rawAdded = new AddedTokenMatcher(rawContents, rawIds);
        normalizedAdded = new AddedTokenMatcher(normContents, normIds);
        endOfText = eot >= 0 ? OptionalInt.of(eot) : OptionalInt.empty();

        LongLongMap merges = new LongLongMap(file.mergeLeft.length);
        for (int rank = 0; rank < file.mergeLeft.length; rank++) {
            // A pair listed twice keeps its first (lowest) rank, as the reference does.
            merges.putIfAbsent(BytePairEncoder.pairKey(file.mergeLeft[rank], file.mergeRight[rank]),
                    BytePairEncoder.mergeValue(rank, file.mergeResult[rank]));
        }
        int[] byteSymbol = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = file.vocab.get(String.valueOf(ByteLevelAlphabet.charOf(b)));
            byteSymbol[b] = id == null ? -1 : id;
        }
        bpe = new BytePairEncoder(merges, byteSymbol);
        Integer nl = file.vocab.get("\u010A");
        Integer nlnl = file.vocab.get("\u010A\u010A");
        newline = nl == null ? -1 : nl;
        doubleNewline = nlnl == null ? -1 : nlnl;
    }

    /**
     * Loads a Hugging Face {@code tokenizer.json}.
     *
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException if the content is not valid JSON, not a byte-level BPE
     *                                  tokenizer, or uses settings this class does not implement
     */
    public static NeoxTokenizer load(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        try (InputStream in = Files.newInputStream(file)) {
            return load(in, file.toString());
        }
    }

    /**
     * Loads a Hugging Face {@code tokenizer.json} from a stream (read to its end, not closed).
     *
     * @param source names the content in messages
     * @throws IOException              if reading fails
     * @throws IllegalArgumentException if the content is not valid JSON, not a byte-level BPE
     *                                  tokenizer, or uses settings this class does not implement
     */
    public static NeoxTokenizer load(InputStream in, String source) throws IOException {
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(source, "source");
        return new NeoxTokenizer(source, HuggingFaceBpeFile.read(in, source));
    }

    @Override
    public Kind kind() {
        return Kind.NEOX;
    }

    /** One more than the largest id (50277 for {@code 20B_tokenizer.json}). */
    @Override
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of {@code <|endoftext|>} (0), if the file has it. */
    @Override
    public OptionalInt endOfText() {
        return endOfText;
    }

    @Override
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        StrictUtf8.checkSurrogates(text);
        IntList out = new IntList(Math.max(16, text.length() / 3));
        rawAdded.split(text, new AddedTokenMatcher.Consumer() {
            @Override
            public void text(int start, int end) {
                String piece = text.substring(start, end);
                if (nfc && !Normalizer.isNormalized(piece, Normalizer.Form.NFC)) {
                    piece = Normalizer.normalize(piece, Normalizer.Form.NFC);
                }
                encodeNormalized(piece, out);
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
        return out.toArray();
    }

    private void encodeNormalized(String text, IntList out) {
        normalizedAdded.split(text, new AddedTokenMatcher.Consumer() {
            @Override
            public void text(int start, int end) {
                GptPreTokenizer.split(text, start, end, (s, e) -> encodePiece(text, s, e, out));
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        });
    }

    private void encodePiece(String text, int start, int end, IntList out) {
        if (end - start > CACHE_PIECE_LIMIT) {
            byte[] utf8 = text.substring(start, end).getBytes(StandardCharsets.UTF_8);
            bpe.encode(utf8, 0, utf8.length, out);
            return;
        }
        String piece = text.substring(start, end);
        int[] ids = cache.get(piece);
        if (ids == null) {
            byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
            IntList local = new IntList(utf8.length);
            bpe.encode(utf8, 0, utf8.length, local);
            ids = local.toArray();
            if (cache.size() >= CACHE_ENTRIES) {
                cache.clear(); // crude but bounded; refills with the text at hand
            }
            cache.put(piece, ids);
        }
        out.addAll(ids);
    }

    /**
     * {@inheritDoc} Here: a final {@code "\n\n"} token (535) becomes {@code "\n", "\n"} (187,
     * 187), as ChatRWKV's {@code fix_tokens} and rwkv.cpp do for RWKV-4 models.
     */
    @Override
    public int[] encodePrompt(String text) {
        int[] ids = encode(text);
        if (ids.length > 0 && doubleNewline >= 0 && newline >= 0 && ids[ids.length - 1] == doubleNewline) {
            int[] fixed = Arrays.copyOf(ids, ids.length + 1);
            fixed[ids.length - 1] = newline;
            fixed[ids.length] = newline;
            return fixed;
        }
        return ids;
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
        return "NeoxTokenizer[" + source + ", " + tokens.length + " ids]";
    }
}
