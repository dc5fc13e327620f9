package org.jrwkv.internal.text;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What jrwkv reads from a Hugging Face {@code tokenizer.json} of a byte-level BPE tokenizer
 * (GPT-NeoX-20B's, GPT-2's): vocabulary, merges, added tokens and the few pipeline settings that
 * matter. Settings jrwkv does not implement are refused with a message naming them, rather than
 * ignored, so a file is either tokenized exactly or not at all.
 *
 * <p>Internal: not part of the public API.
 */
public final class HuggingFaceBpeFile {

    /** Largest token id accepted (bounds the tables a hostile file can make us allocate). */
    public static final int MAX_ID = (1 << 24) - 1;

    /** An added token. */
    public record AddedToken(int id, String content, boolean special, boolean normalized) {
    }

    /** Vocabulary: token string → id. */
    public final Map<String, Integer> vocab;
    /** Merges in rank order, each as the two symbols' ids and the merged symbol's id. */
    public final int[] mergeLeft;
    public final int[] mergeRight;
    public final int[] mergeResult;
    /** Added tokens in file order. */
    public final List<AddedToken> addedTokens;
    /** Whether the normalizer is NFC (otherwise there is none). */
    public final boolean nfc;

    private HuggingFaceBpeFile(Map<String, Integer> vocab, int[] mergeLeft, int[] mergeRight, int[] mergeResult,
            List<AddedToken> addedTokens, boolean nfc) {
        this.vocab = vocab;
        this.mergeLeft = mergeLeft;
        this.mergeRight = mergeRight;
        this.mergeResult = mergeResult;
        this.addedTokens = addedTokens;
        this.nfc = nfc;
    }

    /**
     * Reads and checks a {@code tokenizer.json}.
     *
     * @param in     the JSON (read to its end, not closed)
     * @param source names the file in messages
     * @throws IOException              if reading fails
     * @throws IllegalArgumentException if the content is not valid JSON, not a byte-level BPE
     *                                  tokenizer, or uses a setting jrwkv does not implement
     */
    public static HuggingFaceBpeFile read(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(in);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            throw new IllegalArgumentException(source + " is not valid JSON" + where + ": " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + " is not a Hugging Face tokenizer.json (no JSON object)");
        }
        Reader r = new Reader(source);
        JsonNode model = r.object(root, "model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw r.unsupported("model type " + type + " (jrwkv reads byte-level BPE tokenizers)");
        }
        r.requireNullOrEmpty(model, "continuing_subword_prefix");
        r.requireNullOrEmpty(model, "end_of_word_suffix");
        if (model.path("byte_fallback").asBoolean(false)) {
            throw r.unsupported("model.byte_fallback");
        }
        if (model.hasNonNull("dropout") && model.get("dropout").asDouble() != 0.0) {
            throw r.unsupported("BPE dropout");
        }
        boolean nfc = r.normalizer(root.get("normalizer"));
        r.preTokenizer(root.get("pre_tokenizer"));
        r.decoder(root.get("decoder"));
        r.postProcessor(root.get("post_processor"));

        Map<String, Integer> vocab = r.vocab(r.object(model, "vocab"));
        JsonNode merges = model.get("merges");
        if (merges == null || !merges.isArray()) {
            throw r.bad("model.merges must be an array");
        }
        int count = merges.size();
        int[] left = new int[count];
        int[] right = new int[count];
        int[] result = new int[count];
        for (int i = 0; i < count; i++) {
            String[] pair = r.mergePair(merges.get(i), i);
            Integer a = vocab.get(pair[0]);
            Integer b = vocab.get(pair[1]);
            Integer ab = vocab.get(pair[0] + pair[1]);
            if (a == null || b == null || ab == null) {
                String missing = a == null ? pair[0] : b == null ? pair[1] : pair[0] + pair[1];
                throw r.bad("merge " + i + " ('" + pair[0] + " " + pair[1] + "') needs '" + missing
                        + "', which is not in model.vocab");
            }
            left[i] = a;
            right[i] = b;
            result[i] = ab;
        }
        List<AddedToken> added = r.addedTokens(root.get("added_tokens"));
        return new HuggingFaceBpeFile(vocab, left, right, result, added, nfc);
    }

    /** Checks of the JSON tree, with messages that name the file. */
    private static final class Reader {
        private final String source;

        Reader(String source) {
            this.source = source;
        }

        IllegalArgumentException bad(String message) {
            return new IllegalArgumentException(source + ": " + message);
        }

        IllegalArgumentException unsupported(String what) {
            return new IllegalArgumentException(source + ": unsupported tokenizer setting: " + what);
        }

        JsonNode object(JsonNode parent, String field) {
            JsonNode node = parent.get(field);
            if (node == null || !node.isObject()) {
                throw bad("'" + field + "' must be a JSON object");
            }
            return node;
        }

        void requireNullOrEmpty(JsonNode node, String field) {
            JsonNode value = node.get(field);
            if (value != null && !value.isNull() && !(value.isTextual() && value.asText().isEmpty())) {
                throw unsupported("model." + field + " = " + value);
            }
        }

        boolean normalizer(JsonNode node) {
            if (node == null || node.isNull()) {
                return false;
            }
            String type = node.path("type").asText("");
            if (type.equals("NFC")) {
                return true;
            }
            throw unsupported("normalizer " + (type.isEmpty() ? node.toString() : type));
        }

        void preTokenizer(JsonNode node) {
            if (node == null || node.isNull() || !node.path("type").asText("").equals("ByteLevel")) {
                throw unsupported("pre_tokenizer " + (node == null ? "null" : node.path("type").asText(node.toString()))
                        + " (jrwkv reads byte-level BPE tokenizers)");
            }
            if (node.path("add_prefix_space").asBoolean(false)) {
                throw unsupported("pre_tokenizer.add_prefix_space = true");
            }
            if (!node.path("use_regex").asBoolean(true)) {
                throw unsupported("pre_tokenizer.use_regex = false");
            }
        }

        void decoder(JsonNode node) {
            if (node != null && !node.isNull() && !node.path("type").asText("").equals("ByteLevel")) {
                throw unsupported("decoder " + node.path("type").asText(node.toString()));
            }
        }

        void postProcessor(JsonNode node) {
            if (node != null && !node.isNull() && !node.path("type").asText("").equals("ByteLevel")) {
                throw unsupported("post_processor " + node.path("type").asText(node.toString())
                        + " (it would add tokens jrwkv does not add)");
            }
        }

        Map<String, Integer> vocab(JsonNode node) {
            Map<String, Integer> vocab = new HashMap<>(node.size() * 2);
            Map<Integer, String> byId = new HashMap<>(node.size() * 2);
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                JsonNode v = e.getValue();
                if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() > MAX_ID) {
                    throw bad("model.vocab['" + e.getKey() + "'] must be an id in [0, " + MAX_ID + "], got " + v);
                }
                String other = byId.put(v.asInt(), e.getKey());
                if (other != null) {
                    throw bad("model.vocab gives id " + v.asInt() + " to both '" + other + "' and '" + e.getKey() + "'");
                }
                vocab.put(e.getKey(), v.asInt());
            }
            if (vocab.isEmpty()) {
                throw bad("model.vocab is empty");
            }
            return vocab;
        }

        String[] mergePair(JsonNode merge, int index) {
            if (merge.isTextual()) {
                String text = merge.asText();
                int space = text.indexOf(' ');
                if (space <= 0 || space == text.length() - 1 || text.indexOf(' ', space + 1) >= 0) {
                    throw bad("merge " + index + " ('" + text + "') is not two symbols separated by one space");
                }
                return new String[] {text.substring(0, space), text.substring(space + 1)};
            }
            if (merge.isArray() && merge.size() == 2 && merge.get(0).isTextual() && merge.get(1).isTextual()) {
                return new String[] {merge.get(0).asText(), merge.get(1).asText()};
            }
            throw bad("merge " + index + " must be \"left right\" or [\"left\", \"right\"], got " + merge);
        }

        List<AddedToken> addedTokens(JsonNode node) {
            List<AddedToken> list = new ArrayList<>();
            if (node == null || node.isNull()) {
                return list;
            }
            if (!node.isArray()) {
                throw bad("'added_tokens' must be an array");
            }
            for (JsonNode t : node) {
                JsonNode id = t.get("id");
                JsonNode content = t.get("content");
                if (id == null || !id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0
                        || id.asInt() > MAX_ID || content == null || !content.isTextual() || content.asText().isEmpty()) {
                    throw bad("added token " + t + " needs an id in [0, " + MAX_ID + "] and a non-empty content");
                }
                for (String flag : new String[] {"lstrip", "rstrip", "single_word"}) {
                    if (t.path(flag).asBoolean(false)) {
                        throw unsupported("added token " + id.asInt() + " has " + flag + " = true");
                    }
                }
                boolean special = t.path("special").asBoolean(false);
                list.add(new AddedToken(id.asInt(), content.asText(), special, t.path("normalized").asBoolean(!special)));
            }
            return list;
        }
    }
}
