package org.jrwkv.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.jrwkv.TokenizerData;

/**
 * Inputs for the benchmarks, made from the shared test data at run time (nothing large is
 * committed). The test data folder is found like the tests find it: {@code $JRWKV_TESTDATA} or
 * {@code ../shared/testdata} beside the repository ({@code -Djrwkv.basedir} is set by the
 * {@code jmh} profile).
 */
public final class BenchData {

    private BenchData() {
    }

    /**
     * A multilingual text of at least {@code minChars} chars: every text of the World and
     * GPT-NeoX reference cases (English, Chinese, Japanese, Korean, Russian, emoji, code, long
     * space runs...), joined with newlines and repeated.
     */
    public static String multilingualText(int minChars) {
        StringBuilder one = new StringBuilder();
        for (String file : List.of("world-cases.jsonl", "neox-cases.jsonl")) {
            for (JsonNode node : TokenizerData.jsonLines(file)) {
                one.append(node.get("text").asText()).append('\n');
            }
        }
        StringBuilder text = new StringBuilder(minChars + one.length());
        while (text.length() < minChars) {
            text.append(one);
        }
        return text.toString();
    }
}
