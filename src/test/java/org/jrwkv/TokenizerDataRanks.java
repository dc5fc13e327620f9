package org.jrwkv;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/** Merge ranks and vocabulary of {@code 20B_tokenizer.json}, read independently for tests. */
final class TokenizerDataRanks {

    private static Map<String, Integer> ranks;
    private static Map<String, Integer> vocab;

    private TokenizerDataRanks() {
    }

    static synchronized Map<String, Integer> ranks() {
        load();
        return ranks;
    }

    static synchronized Map<String, Integer> vocab() {
        load();
        return vocab;
    }

    private static void load() {
        if (ranks != null) {
            return;
        }
        try {
            JsonNode root = new ObjectMapper().readTree(TokenizerData.file("20B_tokenizer.json").toFile());
            ranks = new HashMap<>();
            int rank = 0;
            for (JsonNode m : root.get("model").get("merges")) {
                ranks.putIfAbsent(m.asText(), rank++);
            }
            vocab = new HashMap<>();
            for (Map.Entry<String, JsonNode> e : root.get("model").get("vocab").properties()) {
                vocab.put(e.getKey(), e.getValue().asInt());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
