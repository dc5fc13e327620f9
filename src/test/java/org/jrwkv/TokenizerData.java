package org.jrwkv;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The shared tokenizer files and reference cases ({@code testdata/tokenizers}), loaded once. */
public final class TokenizerData {

    /** One reference encoding. */
    public record Case(int line, String text, int[] ids) {
        @Override
        public String toString() {
            return "line " + line + ": " + (text.length() > 40 ? text.substring(0, 40) + "..." : text);
        }
    }

    private static WorldTokenizer world;
    private static NeoxTokenizer neox;

    private TokenizerData() {
    }

    /** A file of {@code testdata/tokenizers}. */
    public static Path file(String name) {
        return TestData.dir().resolve("tokenizers").resolve(name);
    }

    /** The World tokenizer from {@code rwkv_vocab_v20230424.txt}. */
    public static synchronized WorldTokenizer world() {
        if (world == null) {
            try {
                world = WorldTokenizer.load(file("rwkv_vocab_v20230424.txt"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return world;
    }

    /** The GPT-NeoX-20B tokenizer from {@code 20B_tokenizer.json}. */
    public static synchronized NeoxTokenizer neox() {
        if (neox == null) {
            try {
                neox = NeoxTokenizer.load(file("20B_tokenizer.json"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return neox;
    }

    /** The JSON objects of a {@code .jsonl} file. */
    public static List<JsonNode> jsonLines(String name) {
        try {
            ObjectMapper mapper = new ObjectMapper();
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(file(name), StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(mapper.readTree(line));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The cases of {@code world-cases.jsonl} or {@code neox-cases.jsonl}. */
    public static List<Case> cases(String name) {
        List<Case> cases = new ArrayList<>();
        int line = 0;
        for (JsonNode node : jsonLines(name)) {
            line++;
            cases.add(new Case(line, node.get("text").asText(), ints(node.get("ids"))));
        }
        return cases;
    }

    /** A JSON array of ints. */
    public static int[] ints(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }
}
